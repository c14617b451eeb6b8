package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
)

// TestH2C: a client speaking HTTP/2 with prior knowledge reaches a Service
// port of appProtocol kubernetes.io/h2c, and the backend is spoken to in
// HTTP/2 too; a port without it gets HTTP/1.1.
func TestH2C(t *testing.T) {
	protos := func(h1, h2c bool) *http.Protocols {
		p := new(http.Protocols)
		p.SetHTTP1(h1)
		p.SetUnencryptedHTTP2(h2c)
		return p
	}
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	backend.Config.Protocols = protos(true, true)
	backend.Start()
	t.Cleanup(backend.Close)

	h2cSvc := service("default/grpc:8080", 1, backend.Listener.Addr().String())
	h2cSvc.AppProtocol = proxy.AppProtocolH2C
	plainSvc := service("default/web:8080", 1, backend.Listener.Addr().String())
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Install(table(
		entry("default/h2c", prefix("/h2c"), rule(t, picker.Random, 1, h2cSvc)),
		entry("default/plain", prefix("/plain"), rule(t, picker.Random, 1, plainSvc)),
	)); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewUnstartedServer(p.Handler(testPort))
	proxy.ServerProtocols(front.Config)
	front.Start()
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)

	client := &http.Client{Transport: &http.Transport{Protocols: protos(false, true)}}
	for path, want := range map[string]string{"/h2c": "HTTP/2.0", "/plain": "HTTP/1.1"} {
		res, err := client.Get(front.URL + path)
		if err != nil {
			t.Fatalf("h2c GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Errorf("GET %s: the proxy answered in %s, want HTTP/2 (prior knowledge)", path, res.Proto)
		}
		if string(body) != want {
			t.Errorf("GET %s: the backend saw %q, want %q", path, body, want)
		}
	}
}

// TestWebSocketUpgrade: an Upgrade request passes through, the backend's
// 101 reaches the client, and bytes then flow both ways on the connection.
func TestWebSocketUpgrade(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "expected an upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		// Echo one line, upper-cased, to show the tunnel is the backend's.
		line, err := rw.ReadString('\n')
		if err != nil {
			return
		}
		_, _ = rw.WriteString(strings.ToUpper(line))
		_ = rw.Flush()
	}))
	t.Cleanup(backend.Close)
	svc := service("default/ws:8080", 1, backend.Listener.Addr().String())
	svc.AppProtocol = "kubernetes.io/ws"
	_, front := MustProxy(t, table(entry("default/ws", prefix("/"), rule(t, picker.Random, 1, svc))), proxy.Options{})

	conn, err := net.DialTimeout("tcp", front.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(res.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("answer %s with Upgrade %q, want 101 websocket", res.Status, res.Header.Get("Upgrade"))
	}
	if _, err := io.WriteString(conn, "hello through the tunnel\n"); err != nil {
		t.Fatal(err)
	}
	got, err := br.ReadString('\n')
	if err != nil || got != "HELLO THROUGH THE TUNNEL\n" {
		t.Fatalf("tunnel echoed %q (%v), want the backend's upper-cased line", got, err)
	}
}
