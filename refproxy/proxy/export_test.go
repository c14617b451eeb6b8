package proxy

import "time"

// SetFailureLogClock replaces the clock of p's failed-request log, so that
// tests move time instead of waiting for it.
func SetFailureLogClock(p *Proxy, now func() time.Time) { p.failures.now = now }
