package loader

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/splitproof/splitproof/refproxy/objects"
)

// DefaultNamespace is the namespace of namespaced objects that name none,
// as with kubectl outside any context namespace.
const DefaultNamespace = "default"

// DefaultMaxFileBytes is the size limit of one manifest file when
// Loader.MaxFileBytes is zero. Decoding costs several times a file's size in
// memory, and a real configuration is kilobytes, so 64 MiB is generous.
const DefaultMaxFileBytes = 64 << 20

// ErrTooLarge is wrapped by the error for a file over the size limit.
var ErrTooLarge = errors.New("manifest file too large")

// ErrNotRegular is wrapped by the error for a path that is neither a
// directory nor a regular file (a FIFO, a socket, a device): reading one can
// block forever or never end.
var ErrNotRegular = errors.New("not a regular file")

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
	// MaxFileBytes bounds the size of one file (or of Decode's data):
	// DefaultMaxFileBytes when zero, no limit when negative.
	MaxFileBytes int64
	// Logger receives debug logs of skipped documents and warnings about
	// skipped files; nil discards them.
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

// Load is LoadContext without cancellation.
func (l Loader) Load(paths ...string) (*objects.Set, error) {
	return l.LoadContext(context.Background(), paths...)
}

// LoadContext reads every path: a regular file whatever its name, a
// directory recursively for regular *.yaml, *.yml and *.json files in
// lexical order, skipping names that start with a dot and, with a warning,
// entries that are not regular files. It returns the objects sorted by
// namespace/name, or every error found in every file. When ctx ends it stops
// between two documents and returns ctx's error alone.
func (l Loader) LoadContext(ctx context.Context, paths ...string) (*objects.Set, error) {
	c := l.newCollector(ctx)
	files, errs := l.files(c.log, paths)
	for _, f := range files {
		if c.cancelled() {
			break
		}
		data, err := readRegular(f, l.maxFileBytes())
		if err != nil {
			errs = append(errs, fmt.Errorf("read manifests: %w", err))
			continue
		}
		c.decodeFile(f, data)
	}
	return c.result(errs)
}

// Decode is DecodeContext without cancellation.
func (l Loader) Decode(name string, data []byte) (*objects.Set, error) {
	return l.DecodeContext(context.Background(), name, data)
}

// DecodeContext reads the documents in data; name is used in errors and
// logs. When ctx ends it stops between two documents and returns ctx's error.
func (l Loader) DecodeContext(ctx context.Context, name string, data []byte) (*objects.Set, error) {
	c := l.newCollector(ctx)
	if limit := l.maxFileBytes(); limit >= 0 && int64(len(data)) > limit {
		return nil, errors.Join(tooLarge(name, int64(len(data)), limit))
	}
	c.decodeFile(name, data)
	return c.result(nil)
}

// Files lists the manifest files LoadContext would read under paths, in the
// order it reads them, and the errors it would report for the paths
// themselves. File mode watches exactly these files.
func (l Loader) Files(paths ...string) ([]string, []error) {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return l.files(log, paths)
}

func (l Loader) files(log *slog.Logger, paths []string) ([]string, []error) {
	var files []string
	var errs []error
	for _, p := range paths {
		found, err := manifestFiles(log, p)
		if err != nil {
			errs = append(errs, err)
		}
		files = append(files, found...)
	}
	return files, errs
}

func (l Loader) maxFileBytes() int64 {
	if l.MaxFileBytes == 0 {
		return DefaultMaxFileBytes
	}
	return l.MaxFileBytes
}

func tooLarge(name string, size, limit int64) error {
	return fmt.Errorf("%s: %w: %d bytes or more, over the limit of %d bytes (%s) per file",
		name, ErrTooLarge, size, limit, humanBytes(limit))
}

// humanBytes prints n in the largest binary unit that divides it, as a
// limit is usually set (64 MiB rather than 67108864).
func humanBytes(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// readRegular reads a regular file of at most limit bytes (no limit when
// negative). It opens without blocking, so that a FIFO that took the file's
// place since the directory was listed is refused instead of waiting for a
// writer, and checks the opened file itself rather than its name.
func readRegular(name string, limit int64) ([]byte, error) {
	f, info, err := OpenRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if limit >= 0 && info.Size() > limit {
		return nil, tooLarge(name, info.Size(), limit)
	}
	r := io.Reader(f)
	if limit >= 0 {
		// The file may grow after Stat; never read past the limit.
		r = io.LimitReader(f, limit+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if limit >= 0 && int64(len(data)) > limit {
		return nil, tooLarge(name, int64(len(data)), limit)
	}
	return data, nil
}

// OpenRegular opens name for reading if it is a regular file, and returns
// its FileInfo. It never blocks: a FIFO is opened without waiting for a
// writer, then refused with ErrNotRegular, as is anything else not regular.
// The check is made on the opened file, so a name swapped between a
// directory listing and the open cannot slip through.
func OpenRegular(name string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, describeMode(info.Mode()))
	}
	return f, info, nil
}

func describeMode(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	case t&fs.ModeDir != 0:
		return "a directory"
	default:
		return "file mode " + m.String()
	}
}

// manifestFiles lists the files to read under root: root itself when it is
// not a directory (whatever its name; an error unless it is a regular file),
// else the regular manifest files under it. Other entries with a manifest
// name are skipped with a warning: a FIFO named routes.yaml would otherwise
// block loading until something writes to it.
func manifestFiles(log *slog.Logger, root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("read manifests: %s: %w (%s)", root, ErrNotRegular, describeMode(info.Mode()))
		}
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
		if d.IsDir() || !slices.Contains(manifestExts, strings.ToLower(filepath.Ext(p))) {
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			// A link is read when what it points to is a regular file.
			if target, err := os.Stat(p); err == nil {
				mode = target.Mode()
			}
		}
		if !mode.IsRegular() {
			log.Warn("skipping a manifest name that is not a regular file", "path", p, "type", describeMode(mode))
			return nil
		}
		files = append(files, p)
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
	ctx    context.Context
	l      Loader
	log    *slog.Logger
	set    objects.Set
	errs   []*Error
	seenAt map[string]string // "Kind namespace/name" → file:line of its first definition
	// decoded holds, in a child collector, the objects of one document
	// until merge checks them for duplicates and adds them to the Set.
	decoded []decodedObject
}

// decodedObject is an object decoded without error, waiting to be merged.
type decodedObject struct {
	key  string // "Kind namespace/name"
	err  *Error // its position, should it be a duplicate
	obj  metav1.Object
	kind kindSpec
}

// child returns a collector for one document, sharing c's options.
func (c *collector) child() *collector {
	return &collector{ctx: c.ctx, l: c.l, log: c.log}
}

// merge adds a document's errors and objects to c, in the order they were
// found; an object already defined, in this file or an earlier one, is an
// error at its second definition.
func (c *collector) merge(part *collector) {
	c.errs = append(c.errs, part.errs...)
	for _, o := range part.decoded {
		here := fmt.Sprintf("%s:%d", o.err.File, o.err.Line)
		if first, dup := c.seenAt[o.key]; dup {
			o.err.Err = fmt.Errorf("defined twice: first at %s", first)
			c.errs = append(c.errs, o.err)
			continue
		}
		c.seenAt[o.key] = here
		o.kind.add(&c.set, o.obj)
	}
}

func (l Loader) newCollector(ctx context.Context) *collector {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &collector{ctx: ctx, l: l, log: log, seenAt: map[string]string{}}
}

// cancelled reports whether the load was called off.
func (c *collector) cancelled() bool { return c.ctx.Err() != nil }

func (c *collector) result(ioErrs []error) (*objects.Set, error) {
	if err := c.ctx.Err(); err != nil {
		// What was found so far says nothing about the configuration.
		return nil, fmt.Errorf("load manifests: %w", err)
	}
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
