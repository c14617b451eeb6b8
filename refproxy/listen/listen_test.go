package listen

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/refproxy/route"
)

func TestParsePortMapping(t *testing.T) {
	for _, tc := range []struct {
		in       string
		port     int32
		addr     string
		wantFail bool
	}{
		{in: "80=127.0.0.1:0", port: 80, addr: "127.0.0.1:0"},
		{in: "8080=[::1]:9000", port: 8080, addr: "[::1]:9000"},
		{in: "80", wantFail: true},
		{in: "x=127.0.0.1:0", wantFail: true},
		{in: "70000=127.0.0.1:0", wantFail: true},
		{in: "80=127.0.0.1", wantFail: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			port, addr, err := ParsePortMapping(tc.in)
			if (err != nil) != tc.wantFail || port != tc.port || addr != tc.addr {
				t.Errorf("ParsePortMapping(%q) = %d %q %v", tc.in, port, addr, err)
			}
		})
	}
}

func TestListenerOverrides(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	listenFn := Listener("127.0.0.1", map[int32]string{80: "127.0.0.1:0", 81: busy.Addr().String()})
	ln, err := listenFn(80)
	if err != nil {
		t.Fatalf("port 80 mapped to an ephemeral port: %v", err)
	}
	ln.Close()
	_, err = listenFn(81)
	if err == nil || !strings.Contains(err.Error(), "gateway port 81 on "+busy.Addr().String()) {
		t.Errorf("port 81 mapped to a busy address: %v, want an error naming the port and address", err)
	}
}

func TestPickCertificate(t *testing.T) {
	certs := []route.Certificate{
		{Hostname: "*.example.com", Ref: "wild"},
		{Hostname: "", Ref: "any"},
		{Hostname: "*.a.example.com", Ref: "longer-wild"},
		{Hostname: "www.example.com", Ref: "exact"},
	}
	for _, tc := range []struct {
		sni, want string
		certs     []route.Certificate
	}{
		{sni: "www.example.com", want: "exact"},
		{sni: "WWW.Example.com.", want: "exact"},
		{sni: "x.a.example.com", want: "longer-wild"},
		{sni: "b.example.com", want: "wild"},
		{sni: "other.org", want: "any"},
		{sni: "", want: "any"},
		{sni: "other.org", certs: certs[:1], want: "wild"},
	} {
		t.Run(tc.sni+"/"+tc.want, func(t *testing.T) {
			cs := tc.certs
			if cs == nil {
				cs = certs
			}
			if got := pickCertificate(cs, tc.sni).Ref; got != tc.want {
				t.Errorf("pickCertificate(%q) = %s, want %s", tc.sni, got, tc.want)
			}
		})
	}
}

// TestMerge accepts on every merged listener and stops on Close.
func TestMerge(t *testing.T) {
	var lns []net.Listener
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	m := Merge(lns...)
	if m.Addr() != lns[0].Addr() {
		t.Errorf("Addr %v, want the first listener's %v", m.Addr(), lns[0].Addr())
	}
	for i, ln := range lns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Accept()
		if err != nil {
			t.Fatalf("accept a connection to listener %d: %v", i, err)
		}
		if got.LocalAddr().String() != ln.Addr().String() {
			t.Errorf("accepted a connection to %v, want %v", got.LocalAddr(), ln.Addr())
		}
		_, _ = c.Write([]byte("x"))
		buf := make([]byte, 1)
		_ = got.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(got, buf); err != nil || buf[0] != 'x' {
			t.Errorf("read %q %v through the merged listener", buf, err)
		}
		c.Close()
		got.Close()
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
	for _, ln := range lns {
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%v still accepts after Close", ln.Addr())
		}
	}
}
