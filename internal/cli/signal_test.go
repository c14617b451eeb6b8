package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// subprocessEnv makes the test binary itself run Main with the arguments
// after "--": signal tests need a real process to signal, and this one
// is already built.
const subprocessEnv = "SPLITPROOF_CLI_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(subprocessEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"splitproof"}, os.Args[i+1:]...)
				break
			}
		}
		Main()
		return
	}
	os.Exit(m.Run())
}

// startSplitproof starts splitproof args as a child process and returns it
// with a reader of its stderr lines and its stdout buffer.
func startSplitproof(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), subprocessEnv+"=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Only the child this test started, by its PID.
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewScanner(stderr), &stdout
}

// waitExit waits for cmd at most d and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, stderr *bufio.Scanner, d time.Duration) (int, string) {
	t.Helper()
	var rest strings.Builder
	done := make(chan error, 1)
	go func() {
		for stderr.Scan() {
			rest.WriteString(stderr.Text() + "\n")
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), rest.String()
	case <-time.After(d):
		t.Fatalf("still running %s after the signal", d)
		return 0, ""
	}
}

// TestReplaySignalIsInconclusive: SIGTERM or SIGINT during a long replay
// printed "verdict: PASS" on the requests done and exited 0. It must report
// INCONCLUSIVE ("interrupted after N requests") and exit 3.
func TestReplaySignalIsInconclusive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded target in a subprocess")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			// --fixed: a sequential test would pass a correct gateway
			// within a second, before the signal.
			cmd, stderr, stdout := startSplitproof(t, "replay", "--fixed", "--requests", "100000000", "--snippet", "port-forward", "example1-ab-testing")
			// Progress lines appear every 10% on a pipe; wait instead for the
			// routing table, then let some requests flow.
			for stderr.Scan() {
				if strings.Contains(stderr.Text(), "routing table installed") {
					break
				}
			}
			time.Sleep(500 * time.Millisecond)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, errOut := waitExit(t, cmd, stderr, 20*time.Second)
			out := stdout.String()
			if code != ExitInconclusive || strings.Contains(out, "verdict: PASS") || !strings.Contains(out, "verdict: INCONCLUSIVE") ||
				!strings.Contains(out, "interrupted after ") || !strings.Contains(out, "0 passed, 0 failed, 1 inconclusive") {
				t.Fatalf("exit %d, want %d with an INCONCLUSIVE verdict:\n%s\n%s", code, ExitInconclusive, out, errOut)
			}
		})
	}
}

// TestSimSignal: sim ignored SIGINT inside a run (--n 10^12 needed SIGKILL).
func TestSimSignal(t *testing.T) {
	cmd, stderr, _ := startSplitproof(t, "sim", "--weights", "10,10,80", "--n", "1000000000000", "--runs", "2")
	// The start line comes after Main has taken over the signals: a
	// signal sent earlier would end the child the default way.
	for stderr.Scan() {
		if strings.HasPrefix(stderr.Text(), "simulating ") {
			break
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, errOut := waitExit(t, cmd, stderr, 10*time.Second)
	if code != ExitInconclusive || !strings.Contains(errOut, "interrupted before the simulation finished") {
		t.Fatalf("exit %d after %s, want %d:\n%s", code, time.Since(start), ExitInconclusive, errOut)
	}
}

// TestSimCancelInProcess is the same through a context, without a process.
func TestSimCancelInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	err := Run(ctx, &Env{Stdout: &out, Stderr: &errb}, []string{"sim", "--weights", "80,20", "--n", "1000000000000", "--runs", "1"})
	if code := exitCode(&errb, err); code != ExitInconclusive || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d after %s: %s", code, time.Since(start), errb.String())
	}
}
