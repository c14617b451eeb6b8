package replay

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/splitproof/splitproof/scenarios/sequence"
)

// Files says which files a run writes besides its report; an empty field
// writes nothing.
type Files struct {
	// JUnit is the JUnit XML report of every replay.
	JUnit string
	// Plot draws observed vs expected shares: this path with one replay,
	// PLOT-<scenario>-<snippet>[-<step>].ext for each of several.
	Plot string
	// CountsDir receives each replay's counts with its arrival order, as
	// <scenario>-<snippet>[-<step>].json (splitproof verify --file or --sequence).
	CountsDir string
}

// WriteFiles writes the files f asks for about res, creating their
// directories.
func WriteFiles(res *Result, f Files) error {
	reports := res.Reports
	if f.JUnit != "" {
		if err := WriteFile(f.JUnit, func(w *os.File) error { return WriteJUnit(w, res) }); err != nil {
			return err
		}
	}
	if f.Plot != "" {
		for _, r := range reports {
			path := f.Plot
			if len(reports) > 1 {
				ext := filepath.Ext(f.Plot)
				path = strings.TrimSuffix(f.Plot, ext) + "-" + r.fileLabel() + ext
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := r.Verdict.Plot(path); err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
		}
	}
	if f.CountsDir != "" {
		if err := os.MkdirAll(f.CountsDir, 0o755); err != nil {
			return err
		}
		for _, r := range reports {
			sf := r.SequenceFile()
			path := filepath.Join(f.CountsDir, r.fileLabel()+".json")
			if err := WriteFile(path, func(w *os.File) error { return sequence.Write(w, sf) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteFile creates path (and its directory) and fills it with write,
// naming the path in any error.
func WriteFile(path string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// fileLabel names a replay's output files: scenario-snippet[-step].
func (r *Report) fileLabel() string {
	l := r.Scenario + "-" + r.Snippet
	if r.Step != "" {
		l += "-" + r.Step
	}
	return l
}
