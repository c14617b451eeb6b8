package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/splitproof/splitproof/helloworld/tcpecho"
)

func tcpEchoCommand() Command {
	return Command{Name: "tcp-echo", Short: "run the sample app's TCP echo server: answers each line with a prefix", Run: runTCPEcho}
}

const tcpEchoSynopsis = `tcp-echo [--host HOST] PORTS PREFIX

Listens on every port of the comma-separated list PORTS and answers each line
a client sends with PREFIX, a space and the line, like the tcp-echo container
of the sample app. Stops on SIGTERM or Ctrl-C.`

const tcpEchoExamples = `  # as in the sample app's pod
  splitproof tcp-echo "9000,9001,9002" "hello-v1"
  # on loopback only, then talk to it
  splitproof tcp-echo --host 127.0.0.1 9000 hello-v2 &
  echo world | nc 127.0.0.1 9000      # prints: hello-v2 world`

func runTCPEcho(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "tcp-echo", tcpEchoSynopsis, tcpEchoExamples)
	host := fs.String("host", "", `address to bind each port on ("" = every interface, as in the container)`)
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return BadInput(fmt.Errorf("expected 2 arguments, PORTS and PREFIX, got %d: %q", fs.NArg(), fs.Args()))
	}
	ports, err := tcpecho.ParsePorts(fs.Arg(0))
	if err != nil {
		return BadInput(err)
	}
	prefix := fs.Arg(1)
	var lns []net.Listener
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(p)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return BadInput(fmt.Errorf("tcp-echo: %w", err))
		}
		env.Logger.Info("tcp-echo listening", "addr", ln.Addr().String(), "prefix", prefix)
		lns = append(lns, ln)
	}
	if err := tcpecho.Serve(ctx, lns, prefix, env.Logger); err != nil {
		return Failed(err)
	}
	return nil
}
