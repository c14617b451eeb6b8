package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/splitproof/splitproof/helloworld"
)

func helloworldCommand() Command {
	return Command{Name: "helloworld", Short: "run the documented sample app: GET /hello names its version and instance", Run: runHelloworld}
}

const helloworldSynopsis = `helloworld [--listen ADDR] [--version V] [--instance NAME]

Serves the sample app the traffic-splitting page deploys three times:
  GET /hello   200 "Hello version: V, instance: NAME\n" (text/html; charset=utf-8)
  GET /health  200 {"status": "healthy"} (for the readiness probe)
Stops on SIGTERM or Ctrl-C after letting requests in flight finish.`

const helloworldExamples = `  # as in the sample app's pod (SERVICE_VERSION and HOSTNAME from the environment)
  SERVICE_VERSION=v1 splitproof helloworld
  # three local versions behind refproxy
  splitproof helloworld --listen 127.0.0.1:5001 --version v1 --instance hw-v1 &
  splitproof helloworld --listen 127.0.0.1:5002 --version v2 --instance hw-v2 &
  curl -s 127.0.0.1:5001/hello`

// helloworldShutdownTimeout bounds how long stopping waits for requests in flight.
const helloworldShutdownTimeout = 5 * time.Second

func runHelloworld(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "helloworld", helloworldSynopsis, helloworldExamples)
	listen := fs.String("listen", ":5000", "address to listen on (the container port of the sample app is 5000)")
	version := fs.String("version", env.Getenv("SERVICE_VERSION"), "version to report (default $SERVICE_VERSION)")
	instance := fs.String("instance", env.Getenv("HOSTNAME"), "instance name to report (default $HOSTNAME, else the host name)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if *instance == "" {
		// Shells do not always export HOSTNAME; a pod always sets it.
		h, err := os.Hostname()
		if err != nil {
			return BadInput(fmt.Errorf("--instance not given, $HOSTNAME empty and no host name: %w", err))
		}
		*instance = h
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return BadInput(fmt.Errorf("helloworld: %w", err))
	}
	srv := &http.Server{Handler: helloworld.Handler(*version, *instance), ReadHeaderTimeout: 10 * time.Second}
	env.Logger.Info("helloworld listening", "addr", ln.Addr().String(), "version", *version, "instance", *instance)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return Failed(fmt.Errorf("helloworld: %w", err))
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), helloworldShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return Failed(fmt.Errorf("helloworld: shut down: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return Failed(fmt.Errorf("helloworld: %w", err))
	}
	return nil
}
