package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer a server goroutine may log into while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listeningAddr = regexp.MustCompile(`listening" addr=(127\.0\.0\.1:\d+)`)

// MustStartServer runs a long-lived subcommand and returns the addresses it
// logs as listening, and a stop function that returns the command's error.
func MustStartServer(t *testing.T, wantAddrs int, env map[string]string, args ...string) ([]string, func() error) {
	t.Helper()
	logs := &lockedBuffer{}
	e := &Env{Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, e, args) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("server did not stop")
			return nil
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var addrs []string
		for _, m := range listeningAddr.FindAllStringSubmatch(logs.String(), -1) {
			addrs = append(addrs, m[1])
		}
		if len(addrs) == wantAddrs {
			return addrs, stop
		}
		select {
		case err := <-done:
			t.Fatalf("%v exited early: %v\n%s", args, err, logs)
		default:
		}
	}
	stop()
	t.Fatalf("%v did not log %d listening addresses:\n%s", args, wantAddrs, logs)
	return nil, nil
}

func TestHelloworldCommand(t *testing.T) {
	env := map[string]string{"SERVICE_VERSION": "v3", "HOSTNAME": "helloworld-v3-55bfdf76cf-nv545"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"from environment", []string{"helloworld", "--listen", "127.0.0.1:0"}, "Hello version: v3, instance: helloworld-v3-55bfdf76cf-nv545\n"},
		{"from flags", []string{"helloworld", "--listen", "127.0.0.1:0", "--version", "v1", "--instance", "hw-1"}, "Hello version: v1, instance: hw-1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addrs, stop := MustStartServer(t, 1, env, tc.args...)
			resp, err := http.Get("http://" + addrs[0] + "/hello")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
			if err := stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}

func TestTCPEchoCommand(t *testing.T) {
	addrs, stop := MustStartServer(t, 2, nil, "tcp-echo", "--host", "127.0.0.1", "0,0", "hello-v1")
	for _, a := range addrs {
		conn, err := net.DialTimeout("tcp", a, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("world\n")); err != nil {
			t.Fatal(err)
		}
		got, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil || got != "hello-v1 world\n" {
			t.Errorf("%s answered %q, %v", a, got, err)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestHelloworldAndTCPEchoBadInput(t *testing.T) {
	tests := [][]string{
		{"tcp-echo", "9000"},
		{"tcp-echo", "90x0", "p"},
		{"helloworld", "extra"},
		{"helloworld", "--listen", "127.0.0.1:notaport"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			e := &Env{Stdout: io.Discard, Stderr: &stderr, Logger: slog.New(slog.NewTextHandler(&stderr, nil))}
			if code := exitCode(io.Discard, Run(context.Background(), e, args)); code != ExitBadInput {
				t.Errorf("exit code %d, want %d", code, ExitBadInput)
			}
		})
	}
	t.Run("help teaches flags and examples", func(t *testing.T) {
		for _, cmd := range []string{"helloworld", "tcp-echo"} {
			var stdout bytes.Buffer
			e := &Env{Stdout: &stdout, Stderr: io.Discard}
			if code := exitCode(io.Discard, Run(context.Background(), e, []string{cmd, "--help"})); code != ExitOK {
				t.Errorf("%s --help: exit code %d", cmd, code)
			}
			for _, want := range []string{"Usage: splitproof " + cmd, "Flags:", "Examples:"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("%s --help lacks %q:\n%s", cmd, want, stdout.String())
				}
			}
		}
	})
}

// freeConsecutivePorts finds k consecutive loopback ports nothing listens
// on (best effort: another process may take one before the test binds it,
// so the caller retries).
func freeConsecutivePorts(t *testing.T, k int) int {
	t.Helper()
	for base := 25001 + os.Getpid()%20000; base < 65000; base += 97 {
		ok := true
		for i := 0; i < k && ok; i++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no consecutive free ports")
	return 0
}

// TestHelloworldVersions: one process serves the doc's whole sample app,
// each version on its own consecutive port.
func TestHelloworldVersions(t *testing.T) {
	base := freeConsecutivePorts(t, 3)
	addrs, stop := MustStartServer(t, 3, nil, "helloworld", "--versions", "v1,v2,v3", "--listen", "127.0.0.1:"+strconv.Itoa(base))
	for i, v := range []string{"v1", "v2", "v3"} {
		want := "127.0.0.1:" + strconv.Itoa(base+i)
		if !slices.Contains(addrs, want) {
			t.Fatalf("listening on %v, want %s among them", addrs, want)
		}
		resp, err := http.Get("http://" + want + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, exp := string(body), "Hello version: "+v+", instance: helloworld-"+v+"\n"; got != exp {
			t.Errorf("%s: body %q, want %q", want, got, exp)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	for _, args := range [][]string{
		{"helloworld", "--versions", "v1,,v3", "--listen", "127.0.0.1:25001"},
		{"helloworld", "--versions", "v1,v1", "--listen", "127.0.0.1:25001"},
		{"helloworld", "--versions", "v1,v2", "--version", "v1", "--listen", "127.0.0.1:25001"},
		{"helloworld", "--versions", "v1,v2", "--listen", "127.0.0.1"},
		{"helloworld", "--versions", "v1,v2,v3", "--listen", "127.0.0.1:65534"},
	} {
		e := &Env{Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler)}
		if code := exitCode(io.Discard, Run(context.Background(), e, args)); code != ExitBadInput {
			t.Errorf("%v: exit code %d, want %d", args, code, ExitBadInput)
		}
	}
}
