package fakeopenai

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/splitproof/splitproof/internal/strictdecode"
)

// ModelType says which endpoint serves a model; a model sent to another
// endpoint is answered with 404, as OpenAI does for a chat model on
// /v1/completions.
type ModelType string

const (
	TypeChat       ModelType = "chat"       // POST /v1/chat/completions
	TypeCompletion ModelType = "completion" // POST /v1/completions
	TypeEmbedding  ModelType = "embedding"  // POST /v1/embeddings
)

// Model is one dated snapshot and the aliases that resolve to it.
type Model struct {
	// ID is the snapshot name the responses report, e.g. gpt-4o-mini-2024-07-18.
	ID string
	// Aliases are other names a request may use, e.g. gpt-4o-mini.
	Aliases []string
	Type    ModelType
	// Created is the Unix time /v1/models reports.
	Created int64
	// OwnedBy is /v1/models' owned_by; "system" when empty.
	OwnedBy string
	// Dimensions is the embedding length (embedding models only).
	Dimensions int
}

// Catalog resolves model names (aliases or snapshot ids) to snapshots. It is
// immutable once built and safe for concurrent use.
type Catalog struct {
	models []Model
	byName map[string]int // name → index in models
}

// Catalogue file identity: the file must say what it is.
const (
	CatalogAPIVersion = "fakeopenai.splitproof.dev/v1alpha1"
	CatalogKind       = "ModelCatalog"
)

// NewCatalog validates models and builds a catalogue: ids and aliases must be
// unique across all models, types known, and embedding models need
// dimensions.
func NewCatalog(models []Model) (*Catalog, error) {
	if len(models) == 0 {
		return nil, errors.New("catalogue has no models")
	}
	c := &Catalog{models: make([]Model, len(models)), byName: make(map[string]int)}
	for i, m := range models {
		if err := c.add(i, m); err != nil {
			return nil, fmt.Errorf("models[%d] (%s): %w", i, m.ID, err)
		}
	}
	return c, nil
}

func (c *Catalog) add(i int, m Model) error {
	if err := validName(m.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	switch m.Type {
	case TypeChat, TypeCompletion:
		if m.Dimensions != 0 {
			return fmt.Errorf("dimensions: only embedding models have dimensions, this one is %s", m.Type)
		}
	case TypeEmbedding:
		if m.Dimensions <= 0 {
			return fmt.Errorf("dimensions: an embedding model needs dimensions > 0, got %d", m.Dimensions)
		}
	default:
		return fmt.Errorf("type: unknown model type %q (want chat, completion or embedding)", m.Type)
	}
	if m.Created < 0 {
		return fmt.Errorf("created: want a Unix time >= 0, got %d", m.Created)
	}
	if m.OwnedBy == "" {
		m.OwnedBy = "system"
	}
	m.Aliases = append([]string(nil), m.Aliases...)
	names := append([]string{m.ID}, m.Aliases...)
	for j, name := range names {
		if j > 0 {
			if err := validName(name); err != nil {
				return fmt.Errorf("aliases[%d]: %w", j-1, err)
			}
		}
		if prev, ok := c.byName[name]; ok {
			return fmt.Errorf("name %q is already used by %s", name, c.models[prev].ID)
		}
		if j > 0 && name == m.ID {
			return fmt.Errorf("aliases[%d]: %q is the model's own id", j-1, name)
		}
		c.byName[name] = i
	}
	c.models[i] = m
	return nil
}

func validName(s string) error {
	if s == "" {
		return errors.New("empty model name")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '/' || r == 0x7f }) {
		return fmt.Errorf("model name %q contains white space, a control character or '/'", s)
	}
	return nil
}

// Resolve returns the snapshot a name (alias or snapshot id) stands for.
func (c *Catalog) Resolve(name string) (Model, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Model{}, false
	}
	return c.models[i], true
}

// Models returns the snapshots in catalogue order.
func (c *Catalog) Models() []Model {
	out := make([]Model, len(c.models))
	copy(out, c.models)
	return out
}

// DefaultCatalog is a few of OpenAI's models with their real aliases, snapshot
// dates and creation times.
func DefaultCatalog() *Catalog {
	c, err := NewCatalog(defaultModels())
	if err != nil {
		panic("fakeopenai: default catalogue is invalid: " + err.Error())
	}
	return c
}

func defaultModels() []Model {
	return []Model{
		{ID: "gpt-4o-mini-2024-07-18", Aliases: []string{"gpt-4o-mini"}, Type: TypeChat, Created: 1721172717},
		{ID: "gpt-4o-2024-08-06", Aliases: []string{"gpt-4o"}, Type: TypeChat, Created: 1722814719},
		{ID: "gpt-4o-2024-05-13", Type: TypeChat, Created: 1715368132},
		{ID: "gpt-4.1-2025-04-14", Aliases: []string{"gpt-4.1"}, Type: TypeChat, Created: 1744316542},
		{ID: "gpt-4.1-mini-2025-04-14", Aliases: []string{"gpt-4.1-mini"}, Type: TypeChat, Created: 1744317547},
		{ID: "gpt-4.1-nano-2025-04-14", Aliases: []string{"gpt-4.1-nano"}, Type: TypeChat, Created: 1744321707},
		{ID: "gpt-3.5-turbo-instruct-0914", Aliases: []string{"gpt-3.5-turbo-instruct"}, Type: TypeCompletion, Created: 1694122472},
		{ID: "text-embedding-3-small", Type: TypeEmbedding, Created: 1705948997, Dimensions: 1536},
		{ID: "text-embedding-3-large", Type: TypeEmbedding, Created: 1705953180, Dimensions: 3072},
		{ID: "text-embedding-ada-002", Type: TypeEmbedding, Created: 1671217299, OwnedBy: "openai-internal", Dimensions: 1536},
	}
}

// LoadCatalog reads a catalogue file (YAML or JSON; JSON is YAML too).
func LoadCatalog(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model catalogue: %w", err)
	}
	return ParseCatalog(path, data)
}

// ParseCatalog decodes a catalogue strictly: unknown fields, wrong types,
// duplicate keys and invalid models are errors that name the file, the line
// and the field. name is used in messages only. The format:
//
//	apiVersion: fakeopenai.splitproof.dev/v1alpha1
//	kind: ModelCatalog
//	models:
//	- id: gpt-4o-mini-2024-07-18      # the snapshot responses report
//	  aliases: [gpt-4o-mini]          # other names that resolve to it
//	  type: chat                      # chat | completion | embedding
//	  created: 1721172717             # Unix time, optional
//	  ownedBy: system                 # optional
//	- id: text-embedding-3-small
//	  type: embedding
//	  dimensions: 1536                # embedding models only, required
func ParseCatalog(name string, data []byte) (*Catalog, error) {
	var file catalogFile
	doc, err := strictdecode.Decoder{File: name}.YAML(data, &file)
	if err != nil {
		return nil, err
	}
	var errs strictdecode.List
	if file.APIVersion != CatalogAPIVersion {
		errs.Add(doc.Errorf(at("apiVersion"), "want %q, got %q", CatalogAPIVersion, file.APIVersion))
	}
	if file.Kind != CatalogKind {
		errs.Add(doc.Errorf(at("kind"), "want %q, got %q", CatalogKind, file.Kind))
	}
	switch {
	case !doc.Has("models"):
		errs.Add(doc.Errorf(at("models"), "required field is missing"))
	case len(file.Models) == 0:
		errs.Add(doc.Errorf(at("models"), "the catalogue has no models"))
	}
	for i := range file.Models {
		for _, f := range []string{"id", "type"} {
			if !doc.Has("models", i, f) {
				errs.Add(doc.Errorf(at("models", i, f), "required field is missing"))
			}
		}
	}
	if errs.Len() > 0 {
		return nil, errs.Err()
	}
	c := &Catalog{models: make([]Model, len(file.Models)), byName: make(map[string]int)}
	for i, m := range file.Models {
		if err := c.add(i, Model(m)); err != nil {
			return nil, doc.Errorf(at("models", i), "%v", err)
		}
	}
	return c, nil
}

// catalogFile is a catalogue file as written; a model in it is a Model with
// the file's field names.
type catalogFile struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Models     []modelYAML `yaml:"models"`
}

type modelYAML struct {
	ID         string    `yaml:"id"`
	Aliases    []string  `yaml:"aliases"`
	Type       ModelType `yaml:"type"`
	Created    int64     `yaml:"created"`
	OwnedBy    string    `yaml:"ownedBy"`
	Dimensions int       `yaml:"dimensions"`
}

// at is a field path in a catalogue file.
func at(elems ...any) []any { return elems }
