package embedded

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/picker"
)

// TestGatewayServedLikeProxyCommand checks that the embedded target's
// gateway port is served by the listener layer `splitproof proxy` uses
// (refproxy/listen), not by a server of its own: it speaks h2c, which only
// that layer enables, and it cuts off a client that never finishes its
// request header after exactly the listener layer's ReadHeaderTimeout.
func TestGatewayServedLikeProxyCommand(t *testing.T) {
	_, tg := mustStart(t, "example1-ab-testing", picker.Random)
	gw := tg.GatewayAddr(GatewayPort)
	want := listen.NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler)).ReadHeaderTimeout
	if want <= 0 {
		t.Fatalf("the listener layer sets no ReadHeaderTimeout (%s)", want)
	}

	t.Run("h2c", func(t *testing.T) {
		t.Parallel()
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + gw + "/hello")
		if err != nil {
			t.Fatalf("HTTP/2 with prior knowledge to %s: %v", gw, err)
		}
		res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Errorf("answered over %s, want HTTP/2", res.Proto)
		}
	})

	t.Run("slow header", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", gw)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		// A request line and no end of header: the server must give up.
		if _, err := io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(start.Add(want + 5*time.Second))
		_, err = io.Copy(io.Discard, c)
		elapsed := time.Since(start)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open %s later: no ReadHeaderTimeout of %s", elapsed.Round(time.Millisecond), want)
		}
		// The deadline is set when the server starts reading, just after the
		// dial; a small margin covers the clock's granularity.
		if elapsed < want-100*time.Millisecond || elapsed > want+3*time.Second {
			t.Errorf("cut off after %s, want the listener layer's ReadHeaderTimeout %s", elapsed.Round(time.Millisecond), want)
		}
	})
}
