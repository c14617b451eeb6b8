package proxy

import (
	"sync"
	"time"
)

// DefaultFailureLogInterval is how often, at most, a failed upstream request
// is logged per backendRef when Options.FailureLogInterval is zero.
const DefaultFailureLogInterval = 10 * time.Second

// failureLog rate-limits the warning logged for a failed upstream request:
// the first failure of a backendRef is logged at once, later ones at most
// once per interval, each line saying how many it stands for. A backend that
// is down fails every request sent to it, and a line per request (thousands
// a second) buries everything else in the log; the metrics still count
// every failure.
type failureLog struct {
	interval time.Duration // <= 0: every failure is logged
	now      func() time.Time

	mu       sync.Mutex
	backends map[string]*failureWindow
}

// failureWindow is one backendRef's state: when it may be logged again and
// how many failures went unlogged since its last line.
type failureWindow struct {
	next       time.Time
	suppressed int
}

func newFailureLog(interval time.Duration) *failureLog {
	return &failureLog{interval: interval, now: time.Now, backends: map[string]*failureWindow{}}
}

// allow reports whether a failure of backend should be logged now and, if
// so, how many of its failures were not logged since its last line.
func (l *failureLog) allow(backend string) (bool, int) {
	if l.interval <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.backends[backend]
	if w == nil {
		w = &failureWindow{}
		l.backends[backend] = w
	}
	if now.Before(w.next) {
		w.suppressed++
		return false, 0
	}
	suppressed := w.suppressed
	w.next, w.suppressed = now.Add(l.interval), 0
	return true, suppressed
}
