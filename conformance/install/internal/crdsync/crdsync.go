package crdsync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// GatewayAPIModule is the module whose standard-channel CRDs are copied; its
// version is the one go.mod requires.
const GatewayAPIModule = "sigs.k8s.io/gateway-api"

// Prefix starts the name of every file crdsync copies (every file of the
// Gateway API module's standard channel has it). Other *.yaml files in the
// destination are not crdsync's: the AgentgatewayBackend CRD is generated
// there directly by ci/generate.sh and checked by its own test.
const Prefix = "gateway.networking.k8s.io_"

// Source is one file to copy: Name in the destination, Path where it comes from.
type Source struct {
	Name, Path string
}

// Sources lists the files to copy, sorted by Name: every *.yaml of the
// Gateway API module's config/crd/standard (run from repository root root,
// so that `go list` resolves the go.mod version).
func Sources(root string) ([]Source, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", GatewayAPIModule)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locate %s in the module cache (go list -m in %s): %w: %s", GatewayAPIModule, root, err, strings.TrimSpace(stderr.String()))
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml files in %s", dir)
	}
	var srcs []Source
	for _, f := range files {
		name := filepath.Base(f)
		// Diff and Sync recognise their own files by the prefix; a source
		// without it would be copied but never checked or removed.
		if !strings.HasPrefix(name, Prefix) {
			return nil, fmt.Errorf("%s: name does not start with %s", f, Prefix)
		}
		srcs = append(srcs, Source{Name: name, Path: f})
	}
	slices.SortFunc(srcs, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	return srcs, nil
}

// Sync makes the files of directory dst whose names start with Prefix
// exactly those of Sources: copies are rewritten and other such files
// removed. Files without the prefix are left alone.
func Sync(root, dst string) error {
	srcs, err := Sources(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, s := range srcs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, s.Name), b, 0o644); err != nil {
			return err
		}
		keep[s.Name] = true
	}
	old, err := filepath.Glob(filepath.Join(dst, Prefix+"*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// Diff reports every way the files of directory dst whose names start with
// Prefix differ from Sources: missing, different and extra files. Nil means
// up to date.
func Diff(root, dst string) error {
	srcs, err := Sources(root)
	if err != nil {
		return err
	}
	var errs []error
	keep := map[string]bool{}
	for _, s := range srcs {
		keep[s.Name] = true
		want, err := os.ReadFile(s.Path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dst, s.Name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			errs = append(errs, fmt.Errorf("%s is missing (source %s)", filepath.Join(dst, s.Name), s.Path))
		case err != nil:
			return err
		case !bytes.Equal(got, want):
			errs = append(errs, fmt.Errorf("%s differs from %s", filepath.Join(dst, s.Name), s.Path))
		}
	}
	have, err := filepath.Glob(filepath.Join(dst, Prefix+"*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range have {
		if !keep[filepath.Base(f)] {
			errs = append(errs, fmt.Errorf("%s has no source", f))
		}
	}
	return errors.Join(errs...)
}
