package fakeopenai

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty model catalogue", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, fmt.Errorf("%s:%d: a model catalogue is one YAML document, found another", name, line)
	}
	p := catalogParser{file: name}
	models, err := p.document(&doc)
	if err != nil {
		return nil, err
	}
	c := &Catalog{models: make([]Model, len(models)), byName: make(map[string]int)}
	if len(models) == 0 {
		return nil, fmt.Errorf("%s:%d: models: the catalogue has no models", name, p.modelsLine)
	}
	for i, m := range models {
		if err := c.add(i, m.Model); err != nil {
			return nil, fmt.Errorf("%s:%d: models[%d]: %w", name, m.line, i, err)
		}
	}
	return c, nil
}

type catalogParser struct {
	file       string
	modelsLine int
}

type parsedModel struct {
	Model
	line int
}

func (p *catalogParser) errorf(n *yaml.Node, field, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", p.file, n.Line, field, fmt.Sprintf(format, args...))
}

// fields walks a mapping node, rejecting duplicate and unknown keys, and
// calls set for each known one.
func (p *catalogParser) fields(n *yaml.Node, path string, known []string, set func(key string, v *yaml.Node) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, pathOr(path), "want a mapping, got %s", describe(n))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		field := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return p.errorf(k, pathOr(path), "want a field name, got %s", describe(k))
		}
		if seen[k.Value] {
			return p.errorf(k, field, "duplicate field")
		}
		seen[k.Value] = true
		ok := false
		for _, f := range known {
			ok = ok || f == k.Value
		}
		if !ok {
			return p.errorf(k, field, "unknown field (known: %s)", strings.Join(known, ", "))
		}
		if err := set(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *catalogParser) document(doc *yaml.Node) ([]parsedModel, error) {
	root := doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	var apiVersion, kind string
	var models []parsedModel
	haveModels := false
	err := p.fields(root, "", []string{"apiVersion", "kind", "models"}, func(key string, v *yaml.Node) error {
		switch key {
		case "apiVersion":
			return p.str(v, key, &apiVersion)
		case "kind":
			return p.str(v, key, &kind)
		default:
			haveModels = true
			p.modelsLine = v.Line
			return p.models(v, &models)
		}
	})
	if err != nil {
		return nil, err
	}
	if apiVersion != CatalogAPIVersion {
		return nil, p.errorf(root, "apiVersion", "want %q, got %q", CatalogAPIVersion, apiVersion)
	}
	if kind != CatalogKind {
		return nil, p.errorf(root, "kind", "want %q, got %q", CatalogKind, kind)
	}
	if !haveModels {
		return nil, p.errorf(root, "models", "required field is missing")
	}
	return models, nil
}

func (p *catalogParser) models(n *yaml.Node, out *[]parsedModel) error {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "models", "want a list of models, got %s", describe(n))
	}
	for i, item := range n.Content {
		path := fmt.Sprintf("models[%d]", i)
		m := parsedModel{line: deref(item).Line}
		var typ string
		haveID, haveType := false, false
		known := []string{"id", "aliases", "type", "created", "ownedBy", "dimensions"}
		err := p.fields(item, path, known, func(key string, v *yaml.Node) error {
			field := path + "." + key
			switch key {
			case "id":
				haveID = true
				return p.str(v, field, &m.ID)
			case "aliases":
				return p.strs(v, field, &m.Aliases)
			case "type":
				haveType = true
				return p.str(v, field, &typ)
			case "created":
				return p.integer(v, field, &m.Created)
			case "ownedBy":
				return p.str(v, field, &m.OwnedBy)
			default:
				var d int64
				err := p.integer(v, field, &d)
				m.Dimensions = int(d)
				if err == nil && int64(m.Dimensions) != d {
					err = p.errorf(v, field, "%d is out of range", d)
				}
				return err
			}
		})
		if err != nil {
			return err
		}
		if !haveID {
			return p.errorf(deref(item), path+".id", "required field is missing")
		}
		if !haveType {
			return p.errorf(deref(item), path+".type", "required field is missing")
		}
		m.Type = ModelType(typ)
		*out = append(*out, m)
	}
	return nil
}

func (p *catalogParser) str(n *yaml.Node, field string, out *string) error {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return p.errorf(n, field, "want a string, got %s", describe(n))
	}
	*out = n.Value
	return nil
}

func (p *catalogParser) strs(n *yaml.Node, field string, out *[]string) error {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, field, "want a list of strings, got %s", describe(n))
	}
	for i, item := range n.Content {
		var s string
		if err := p.str(item, fmt.Sprintf("%s[%d]", field, i), &s); err != nil {
			return err
		}
		*out = append(*out, s)
	}
	return nil
}

func (p *catalogParser) integer(n *yaml.Node, field string, out *int64) error {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return p.errorf(n, field, "want an integer, got %s", describe(n))
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		return p.errorf(n, field, "want an integer: %v", err)
	}
	*out = v
	return nil
}

// deref follows YAML aliases (*name) to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		}
		return fmt.Sprintf("%s %s", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	case yaml.DocumentNode:
		return "an empty document"
	}
	return "an alias"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOr(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
