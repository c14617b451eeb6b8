package replay

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress prints "name  n/N  counts" at most every 200ms: with \r on a
// terminal, as plain lines at every tenth of the run otherwise (CI logs).
type progress struct {
	w     io.Writer
	name  string
	total int
	tty   bool
	last  time.Time
	step  int
	next  int
}

func newProgress(w io.Writer, name string, total int) *progress {
	p := &progress{w: w, name: name, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	p.step = max(total/10, 1)
	p.next = p.step
	return p
}

func (p *progress) update(n int, counts map[string]int64) {
	if p.w == nil || p.total < 200 {
		return
	}
	if p.tty {
		if time.Since(p.last) < 200*time.Millisecond {
			return
		}
		p.last = time.Now()
		fmt.Fprintf(p.w, "\r%s  %d/%d  %s\033[K", p.name, n, p.total, sortedCounts(counts))
		return
	}
	if n >= p.next {
		p.next += p.step
		fmt.Fprintf(p.w, "%s  %d/%d  %s\n", p.name, n, p.total, sortedCounts(counts))
	}
}

func (p *progress) done(n int, counts map[string]int64) {
	if p.w == nil || p.total < 200 {
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s  %d/%d  %s\033[K\n", p.name, n, p.total, sortedCounts(counts))
	}
}
