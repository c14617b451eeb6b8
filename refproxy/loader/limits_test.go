package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestLineNumbersFarIntoAFile checks the positions of errors in late
// documents: each document is parsed on its own, and its line numbers must
// still be lines of the file.
func TestLineNumbersFarIntoAFile(t *testing.T) {
	const n = 2_000
	data := manyDocuments(n) // 6 lines per document, the first one "---"
	bad := "---\napiVersion: v1\nkind: Service\nmetadata: {name: late}\nspec:\n  ports:\n  - port: x\n" +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: broken\n"
	errs := MustFail(t, Loader{}, string(data)+bad)
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(errs), errs)
	}
	first := 6*n + 1 // the "---" line of the first bad document
	for i, want := range []struct {
		line, docLine int
		field, msg    string
	}{
		{first + 6, first + 1, "spec.ports[0].port", "expected an integer"},
		{first + 10, first + 8, "", "invalid YAML"},
	} {
		e := errs[i]
		if e.Line != want.line || e.DocLine != want.docLine || e.Field != want.field || !strings.Contains(e.Err.Error(), want.msg) {
			t.Errorf("error %d: line %d, document line %d, field %q, %q; want line %d, document line %d, field %q, containing %q",
				i, e.Line, e.DocLine, e.Field, e.Err, want.line, want.docLine, want.field, want.msg)
		}
	}
}

// TestDuplicatesAcrossDecodeWindows puts the two definitions of an object
// further apart than the documents decoded concurrently at once.
func TestDuplicatesAcrossDecodeWindows(t *testing.T) {
	data := string(manyDocuments(3*decodeWindow)) + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s7, namespace: default}\n"
	errs := MustFail(t, Loader{}, data)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "defined twice: first at test.yaml:44") {
		t.Errorf("got %v, want one duplicate error pointing at line 44", errs)
	}
}

func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.yaml")
	data := manyDocuments(20)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	for _, tc := range []struct {
		name  string
		limit int64
		fail  bool
	}{
		{"default", 0, false},
		{"exactly the size", size, false},
		{"one byte less", size - 1, true},
		{"1 KiB", 1 << 10, true},
		{"no limit", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := Loader{MaxFileBytes: tc.limit}
			_, loadErr := l.Load(path)
			_, decodeErr := l.Decode("big.yaml", data)
			for _, err := range []error{loadErr, decodeErr} {
				if tc.fail != errors.Is(err, ErrTooLarge) {
					t.Errorf("limit %d on %d bytes: err = %v, want too large: %v", tc.limit, size, err, tc.fail)
				}
				if tc.fail && !strings.Contains(err.Error(), "big.yaml") {
					t.Errorf("error %q does not name the file", err)
				}
			}
			if tc.limit == 1<<10 && !strings.Contains(loadErr.Error(), "limit of 1024 bytes (1 KiB)") {
				t.Errorf("error %q does not state the limit", loadErr)
			}
		})
	}
}

// countdownContext is a context whose Err turns to Canceled after a given
// number of calls: a cancellation in the middle of a load, at a known point,
// without timing.
type countdownContext struct {
	context.Context
	left atomic.Int64
}

func (c *countdownContext) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestCancel(t *testing.T) {
	data := manyDocuments(5_000)
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		set, err := Loader{}.DecodeContext(ctx, "many.yaml", data)
		if set != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("got set %v, err %v; want context.Canceled", set, err)
		}
	})
	t.Run("in the middle of a file", func(t *testing.T) {
		ctx := &countdownContext{Context: context.Background()}
		ctx.left.Store(100)
		set, err := Loader{}.DecodeContext(ctx, "many.yaml", data)
		if set != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("got set %v, err %v; want context.Canceled", set, err)
		}
		if left := ctx.left.Load(); left < -int64(decodeWindow) {
			t.Errorf("Err was called %d times after the cancellation: decoding went on", -left)
		}
	})
	t.Run("between files", func(t *testing.T) {
		dir := t.TempDir()
		for i := range 3 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.yaml", i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx := &countdownContext{Context: context.Background()}
		ctx.left.Store(1)
		if _, err := (Loader{}).LoadContext(ctx, dir); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
