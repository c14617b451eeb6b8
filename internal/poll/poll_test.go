package poll

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and stops
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	ctx   context.Context
	fatal string
}

func (r *fatalRecorder) Helper()                  {}
func (r *fatalRecorder) Context() context.Context { return r.ctx }
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls Must on its own goroutine, as a test would, and returns what
// Fatalf recorded ("" when Must returned).
func run(ctx context.Context, interval, timeout time.Duration, cond func() (bool, string)) string {
	r := &fatalRecorder{ctx: ctx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Must(r, "the thing", interval, timeout, cond)
	}()
	<-done
	return r.fatal
}

func TestMustReturnsOnceTrue(t *testing.T) {
	calls := 0
	fatal := run(t.Context(), time.Millisecond, 10*time.Second, func() (bool, string) {
		calls++
		return calls == 3, fmt.Sprintf("call %d", calls)
	})
	if fatal != "" {
		t.Fatalf("Must failed: %s", fatal)
	}
	if calls != 3 {
		t.Errorf("cond called %d times, want 3: Must returns at the first true", calls)
	}
}

func TestMustFirstCallIsImmediate(t *testing.T) {
	done := make(chan string, 1)
	// An hour between polls: only the immediate first call can succeed.
	go func() { done <- run(t.Context(), time.Hour, time.Hour, func() (bool, string) { return true, "" }) }()
	select {
	case fatal := <-done:
		if fatal != "" {
			t.Errorf("Must failed: %s", fatal)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Must did not return within 10s for a condition true at once: the first call waited for the interval")
	}
}

func TestMustFailsWithLastState(t *testing.T) {
	calls := 0
	fatal := run(t.Context(), time.Millisecond, 30*time.Millisecond, func() (bool, string) {
		calls++
		return false, fmt.Sprintf("call %d", calls)
	})
	for _, want := range []string{"waiting for the thing: gave up after ", "deadline exceeded", fmt.Sprintf("; last: call %d", calls)} {
		if !strings.Contains(fatal, want) {
			t.Errorf("failure message %q lacks %q", fatal, want)
		}
	}
	if calls < 2 {
		t.Errorf("cond called %d times in 30ms at a 1ms interval, want it polled", calls)
	}
}

func TestMustStopsWhenTheTestContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fatal := run(ctx, time.Millisecond, time.Hour, func() (bool, string) { return false, "never" })
	for _, want := range []string{"waiting for the thing: gave up after ", "canceled", "; last: never"} {
		if !strings.Contains(fatal, want) {
			t.Errorf("failure message %q lacks %q", fatal, want)
		}
	}
}
