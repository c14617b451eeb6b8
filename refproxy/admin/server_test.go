package admin_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// TestListen serves the admin mux on a socket of its own and closes it on
// Shutdown; an address that cannot be bound is an error naming the admin
// listener.
func TestListen(t *testing.T) {
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := admin.Listen("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if code, body := MustGet(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if _, err := admin.Listen(addr, p); err == nil || !strings.HasPrefix(err.Error(), "admin listener: ") {
		t.Errorf("a second listener on %s: %v, want an admin listener error", addr, err)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts after Shutdown", addr)
	}
}
