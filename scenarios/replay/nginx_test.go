package replay

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splitproof/splitproof/helloworld"
)

// nginxBinary finds nginx. CI installs Debian's nginx-light (ci/install.sh),
// so under CI a missing binary is a failure, not a skip.
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed; ci/install.sh installs nginx-light")
	}
	t.Skip("nginx not installed (apt-get install nginx-light); CI runs this test")
	return ""
}

// startNginx runs nginx as a gateway splitting traffic.split.example across
// three helloworld servers with the given weights (nginx's smooth weighted
// round robin), and returns its address.
func startNginx(t *testing.T, weights [3]int) string {
	t.Helper()
	bin := nginxBinary(t)
	var upstreams strings.Builder
	for i, w := range weights {
		srv := httptest.NewServer(helloworld.Handler(fmt.Sprintf("v%d", i+1), fmt.Sprintf("helloworld-v%d-nginx", i+1)))
		t.Cleanup(srv.Close)
		fmt.Fprintf(&upstreams, "    server %s weight=%d;\n", strings.TrimPrefix(srv.URL, "http://"), w)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream helloworld {
%[2]s    keepalive 16;
  }
  server {
    listen %[3]s;
    server_name traffic.split.example;
    location / {
      proxy_pass http://helloworld;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`, dir, upstreams.String(), addr)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s: %s %s", addr, out, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

// TestNginxGateway replays the doc's Example 1 snippets against nginx — a
// gateway this project did not write — configured as the doc's route says
// (10/10/80), then misconfigured (20/20/60). nginx's round robin is
// deterministic, so both outcomes are certain, not just likely.
func TestNginxGateway(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	tests := []struct {
		weights [3]int
		pass    bool
		off     []string
	}{
		{[3]int{10, 10, 80}, true, nil},
		{[3]int{20, 20, 60}, false, []string{"v1", "v2", "v3"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v", tt.weights), func(t *testing.T) {
			addr := startNginx(t, tt.weights)
			ep, err := AddressEndpoint("http://"+addr, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, sn := range s.Snippets {
				rep, err := Run(context.Background(), s, ep, Options{Snippet: sn.Name, Requests: 1000})
				if err != nil {
					t.Fatalf("%s: %v", sn.Name, err)
				}
				if rep.Pass() != tt.pass {
					t.Fatalf("%s: pass = %v, want %v: %v %v", sn.Name, rep.Pass(), tt.pass, rep.Counts, rep.Verdict.Failures)
				}
				var off []string
				for _, c := range rep.Verdict.Categories {
					if c.Status == "off" {
						off = append(off, c.Name)
					}
				}
				if strings.Join(off, ",") != strings.Join(tt.off, ",") {
					t.Fatalf("%s: backends reported off = %v, want %v", sn.Name, off, tt.off)
				}
				var text strings.Builder
				if err := rep.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				for _, name := range tt.off {
					if !strings.Contains(text.String(), name) {
						t.Fatalf("report does not name %s:\n%s", name, text.String())
					}
				}
			}
		})
	}
}
