package tcpecho

import (
	"bufio"
	"context"
	"net"
	"slices"
	"testing"
	"time"
)

func TestParsePorts(t *testing.T) {
	got, err := ParsePorts("9000,9001, 9002")
	if err != nil || !slices.Equal(got, []int{9000, 9001, 9002}) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "9000,", "x", "70000", "-1"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("ParsePorts(%q) accepted", bad)
		}
	}
}

// MustListen opens n loopback listeners on free ports.
func MustListen(t *testing.T, n int) []net.Listener {
	t.Helper()
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	return lns
}

func TestEchoOnEveryPort(t *testing.T) {
	lns := MustListen(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lns, "hello-v1", nil) }()

	for _, ln := range lns {
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		for _, line := range []string{"world\n", "second line\n"} {
			if _, err := conn.Write([]byte(line)); err != nil {
				t.Fatal(err)
			}
			got, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if want := "hello-v1 " + line; got != want {
				t.Errorf("%s: got %q, want %q", ln.Addr(), got, want)
			}
		}
		conn.Close()
	}

	// An open, idle connection must not keep Serve from returning.
	idle, err := net.Dial("tcp", lns[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}
