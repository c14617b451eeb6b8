package poll

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Must calls cond at once and then every interval until it reports true, and
// fails t (Fatalf) if that has not happened within timeout or before t's
// context ends. cond's string says what it saw, for the failure message.
//
// cond runs on the caller's goroutine, so it may itself call t.Fatal.
func Must(t testing.TB, what string, interval, timeout time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	var state string
	start := time.Now()
	err := wait.PollUntilContextTimeout(t.Context(), interval, timeout, true, func(context.Context) (bool, error) {
		var ok bool
		ok, state = cond()
		return ok, nil
	})
	if err != nil {
		// err says which ended: the timeout (deadline exceeded) or the
		// test's context (canceled).
		t.Fatalf("waiting for %s: gave up after %v (%v); last: %s", what, time.Since(start).Round(time.Millisecond), err, state)
	}
}
