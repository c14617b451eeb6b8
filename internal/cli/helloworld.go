package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/splitproof/splitproof/helloworld"
)

func helloworldCommand() Command {
	return Command{Name: "helloworld", Short: "run the documented sample app: GET /hello names its version and instance", Run: runHelloworld}
}

const helloworldSynopsis = `helloworld [--listen ADDR] [--version V] [--instance NAME]
helloworld --versions V1,V2,... --listen HOST:PORT

Serves the sample app the traffic-splitting page deploys three times:
  GET /hello   200 "Hello version: V, instance: NAME\n" (text/html; charset=utf-8)
  GET /health  200 {"status": "healthy"} (for the readiness probe)
With --versions, one process serves every version on consecutive ports from
--listen's (v1 on PORT, v2 on PORT+1, ...), each instance named
helloworld-VERSION: the doc's whole sample app for a gateway of your own.
Stops on SIGTERM or Ctrl-C after letting requests in flight finish.`

const helloworldExamples = `  # as in the sample app's pod (SERVICE_VERSION and HOSTNAME from the environment)
  SERVICE_VERSION=v1 splitproof helloworld
  # a complete local recipe: the doc's three versions, any gateway, a verdict
  splitproof helloworld --versions v1,v2,v3 --listen 127.0.0.1:25001 &
  #   configure your gateway: host traffic.split.example (with and without
  #   :8080), PathPrefix /, 10/10/80 over 127.0.0.1:25001, :25002, :25003
  #   (splitproof replay --list shows what each scenario expects)
  splitproof replay --gateway http://127.0.0.1:8080 example1-ab-testing
  curl -s 127.0.0.1:25001/hello`

// helloworldShutdownTimeout bounds how long stopping waits for requests in flight.
const helloworldShutdownTimeout = 5 * time.Second

// helloworldServer is one version on one listener.
type helloworldServer struct {
	ln                net.Listener
	version, instance string
}

func runHelloworld(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "helloworld", helloworldSynopsis, helloworldExamples)
	listen := fs.String("listen", ":5000", "address to listen on (the container port of the sample app is 5000); with --versions, the first of consecutive ports")
	version := fs.String("version", env.Getenv("SERVICE_VERSION"), "version to report (default $SERVICE_VERSION)")
	versions := fs.String("versions", "", "serve these comma-separated `VERSIONS` from one process, on consecutive ports from --listen's (not with --version or --instance)")
	instance := fs.String("instance", env.Getenv("HOSTNAME"), "instance name to report (default $HOSTNAME, else the host name)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	var servers []helloworldServer
	defer func() {
		for _, s := range servers {
			_ = s.ln.Close()
		}
	}()
	if *versions != "" {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if given["version"] || given["instance"] {
			return BadInput(errors.New("--versions names every version and instance itself: drop --version and --instance"))
		}
		host, portText, err := net.SplitHostPort(*listen)
		if err != nil {
			return BadInput(fmt.Errorf("--listen %q: expected HOST:PORT with --versions: %w", *listen, err))
		}
		first, err := strconv.Atoi(portText)
		list := strings.Split(*versions, ",")
		if err != nil || first < 1 || first+len(list)-1 > 65535 {
			return BadInput(fmt.Errorf("--listen %q: with --versions the port must be a number from 1 to %d, so that %d consecutive ports fit", *listen, 65536-len(list), len(list)))
		}
		seen := map[string]bool{}
		for i, v := range list {
			if v = strings.TrimSpace(v); v == "" || seen[v] {
				return BadInput(fmt.Errorf("--versions %q: entry %d is empty or repeated: expected distinct names such as v1,v2,v3", *versions, i+1))
			}
			seen[v] = true
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(first+i)))
			if err != nil {
				return BadInput(fmt.Errorf("helloworld %s: %w", v, err))
			}
			servers = append(servers, helloworldServer{ln: ln, version: v, instance: "helloworld-" + v})
		}
	} else {
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
		servers = append(servers, helloworldServer{ln: ln, version: *version, instance: *instance})
	}
	served := make(chan error, len(servers))
	var running []*http.Server
	for _, s := range servers {
		srv := &http.Server{Handler: helloworld.Handler(s.version, s.instance), ReadHeaderTimeout: 10 * time.Second}
		running = append(running, srv)
		env.Logger.Info("helloworld listening", "addr", s.ln.Addr().String(), "version", s.version, "instance", s.instance)
		go func(ln net.Listener) { served <- srv.Serve(ln) }(s.ln)
	}
	select {
	case err := <-served:
		return Failed(fmt.Errorf("helloworld: %w", err))
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), helloworldShutdownTimeout)
	defer cancel()
	for _, srv := range running {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return Failed(fmt.Errorf("helloworld: shut down: %w", err))
		}
	}
	for range running {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return Failed(fmt.Errorf("helloworld: %w", err))
		}
	}
	return nil
}
