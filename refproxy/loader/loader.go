package loader

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/splitproof/splitproof/refproxy/objects"
)

// DefaultNamespace is the namespace of namespaced objects that name none,
// as with kubectl outside any context namespace.
const DefaultNamespace = "default"

// Loader reads manifests. The zero value is strict and uses DefaultNamespace.
type Loader struct {
	// Namespace, when set, is what `kubectl -n Namespace` means: the
	// namespace of objects without metadata.namespace, and an error for
	// objects that name a different one.
	Namespace string
	// IgnoreUnknownKinds skips, with a debug log, documents whose kind the
	// loader never reads (apps/v1 Deployment in a sample app) instead of
	// failing. A kind it reads at another apiVersion (a v1alpha2 HTTPRoute)
	// is still an error: skipping it would silently drop routing config.
	IgnoreUnknownKinds bool
	// Logger receives debug logs of skipped documents; nil discards them.
	Logger *slog.Logger
}

// Load reads files and directories with the zero Loader.
func Load(paths ...string) (*objects.Set, error) { return Loader{}.Load(paths...) }

// Decode reads one file's content with the zero Loader; name is used in errors.
func Decode(name string, data []byte) (*objects.Set, error) { return Loader{}.Decode(name, data) }

// DecodeInNamespace is Decode as `kubectl -n ns apply -f name`.
func DecodeInNamespace(name string, data []byte, ns string) (*objects.Set, error) {
	return Loader{Namespace: ns}.Decode(name, data)
}

// manifestExts are the file name endings Load reads inside a directory.
var manifestExts = []string{".yaml", ".yml", ".json"}

// Load reads every path: a file whatever its name, a directory recursively
// for *.yaml, *.yml and *.json in lexical order, skipping names that start
// with a dot. It returns the objects sorted by namespace/name, or every
// error found in every file.
func (l Loader) Load(paths ...string) (*objects.Set, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		found, err := manifestFiles(p)
		if err != nil {
			errs = append(errs, err)
		}
		files = append(files, found...)
	}
	c := l.newCollector()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read manifests: %w", err))
			continue
		}
		c.decodeFile(f, data)
	}
	return c.result(errs)
}

// Decode reads the documents in data; name is used in errors and logs.
func (l Loader) Decode(name string, data []byte) (*objects.Set, error) {
	c := l.newCollector()
	c.decodeFile(name, data)
	return c.result(nil)
}

func manifestFiles(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && slices.Contains(manifestExts, strings.ToLower(filepath.Ext(p))) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read manifests under %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read manifests: no %s files under %s", strings.Join(manifestExts, ", "), root)
	}
	return files, nil
}

// collector gathers objects and errors across files, so that duplicates are
// found across files too.
type collector struct {
	l      Loader
	log    *slog.Logger
	set    objects.Set
	errs   []*Error
	seenAt map[string]string // "Kind namespace/name" → file:line of its first definition
}

func (l Loader) newCollector() *collector {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &collector{l: l, log: log, seenAt: map[string]string{}}
}

func (c *collector) result(ioErrs []error) (*objects.Set, error) {
	slices.SortStableFunc(c.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	errs := ioErrs
	for _, e := range c.errs {
		errs = append(errs, e)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	set := c.set
	set.Sort()
	return &set, nil
}
