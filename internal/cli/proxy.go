package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/splitproof/splitproof/refproxy/admin"
	"github.com/splitproof/splitproof/refproxy/filemode"
	"github.com/splitproof/splitproof/refproxy/listen"
	"github.com/splitproof/splitproof/refproxy/loader"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/runtime"
	"github.com/splitproof/splitproof/refproxy/translate"
)

func proxyCommand() Command {
	return Command{Name: "proxy", Short: "run refproxy, the reference Gateway API proxy, from manifest files or a cluster", Run: runProxy}
}

const proxySynopsis = `proxy --config PATH [--config PATH...] [--pick-mode random|smooth] [--seed N]
       [--admin ADDR] [--all-zero-status 500|503] [--listen-address ADDR]
       [--port-map PORT=HOST:PORT...] [--drain-timeout D] [--poll-interval D]
       [--max-manifest-bytes N] [--upstream-timeout D] [--request-body-timeout D]
       proxy --controller [--kubeconfig PATH] [--gateway NAMESPACE/NAME...]
       [--gateway-address ADDR... | --address-service NAMESPACE/NAME] [--leader-elect]
       [the listener, pick and admin flags above]

Serves the Gateways of GatewayClass controllerName "` + translate.DefaultControllerName + `" found in
the manifests (Gateway, HTTPRoute, Service + EndpointSlice, AgentgatewayBackend,
Secret, ReferenceGrant): one listener per Gateway listener port (HTTPS
terminated with the listeners' certificates, chosen by SNI), weighted
backendRefs picked per request by the same picker the simulator uses.

Only regular files are read: in a directory, anything else with a manifest
name (a FIFO, a socket) is skipped with a warning. Objects are checked
against the Gateway API CRDs' validation rules and the API server's checks
of the fields refproxy reads, so a weight of -1 is a load error naming the
file, line and field, as kubectl apply would refuse it.

Reloads when the files change and on SIGHUP, in the background: the whole
new configuration is built before it replaces the old one; a configuration
that does not load is refused, the last good one keeps serving (and /readyz
stays ready), and the metrics, the log, /debug/routes and /readyz?verbose
show the refusal. SIGTERM or Ctrl-C ends a load in progress (at start-up
too), makes /readyz fail, stops accepting connections and drains requests
in flight for up to --drain-timeout.

Timeouts: a backend that has the whole request and sends no response
header for --upstream-timeout (default 5m) is answered 504, unless
the rule has HTTPRoute timeouts of its own, which then decide alone; a
client that pauses its upload for --request-body-timeout (default 1m)
gets 408. A client that goes away mid-request is counted in
refproxy_client_aborts_total (reason client_closed or client_timeout) and as
status 499, never as a backend failure. 0 disables either timeout. They
apply in file mode; controller mode uses the defaults.

Controller mode (--controller, or --kubeconfig, or no --config inside a Pod)
reads the same objects from a cluster instead: on any change the whole table
is rebuilt by the same translator and swapped in, and status is written back
(GatewayClass Accepted and supportedFeatures; Gateway Accepted, Programmed,
addresses and listeners; HTTPRoute Accepted and ResolvedRefs for the parents
it serves). --gateway restricts an instance to some Gateways, so that one
Deployment per Gateway isolates them. /readyz turns ready once the cache has
synced and the first table is installed.

Admin listener: /metrics, /healthz, /readyz, /debug/routes (secrets redacted).`

const proxyExamples = `  # serve the doc's example on the Gateway ports (80 needs privileges: see --port-map)
  splitproof proxy --config manifests/ --ignore-unknown-kinds
  # map Gateway port 80 to a local port, deterministic smooth round robin
  splitproof proxy --config gw.yaml --config routes/ --port-map 80=127.0.0.1:8080 --pick-mode smooth
  # reproduce a random run: the seed of every run is logged at start-up
  splitproof proxy --config gw.yaml --seed 1234 --port-map 80=127.0.0.1:8080
  # answer all-zero-weight rules with 503 (as Kuma) instead of 500 (as agentgateway)
  splitproof proxy --config gw.yaml --all-zero-status 503
  # reload now, and check readiness
  kill -HUP <pid>; curl -s 127.0.0.1:9901/readyz
  # controller mode against the current kubeconfig, one Gateway, a fixed address in its status
  splitproof proxy --kubeconfig ~/.kube/config --gateway agentgateway-system/http \
    --gateway-address 172.18.0.240 --port-map 80=127.0.0.1:8080
  # in a Pod: serve every Gateway of the class, address from the proxy's own Service
  splitproof proxy --controller --address-service refproxy-system/refproxy --leader-elect`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringList)(nil)

func runProxy(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "proxy", proxySynopsis, proxyExamples)
	var configs, portMaps stringList
	fs.Var(&configs, "config", "manifest file or directory (*.yaml, *.yml, *.json, recursively); repeatable, at least one")
	mode := fs.String("pick-mode", string(picker.Random), "weighted pick: random (independent draws, as agentgateway and Envoy) or smooth (nginx smooth weighted round robin)")
	seed := fs.Uint64("seed", 0, "seed of the random picker (default: derived from the clock, and logged so that the run can be reproduced)")
	adminAddr := fs.String("admin", admin.DefaultAddress, `admin listener address; "" disables it (keep it on loopback: /debug/routes shows the configuration)`)
	allZero := fs.Int("all-zero-status", proxy.DefaultAllZeroStatus, "status for a rule whose weights are all zero, which the spec leaves open: 500 (agentgateway) or 503 (Kuma)")
	listenAddr := fs.String("listen-address", listen.DefaultListenAddress, "address the Gateway listener ports bind on")
	fs.Var(&portMaps, "port-map", "bind Gateway port PORT on HOST:PORT instead, e.g. 80=127.0.0.1:8080 (port 0 picks a free one; the address is logged); repeatable")
	drain := fs.Duration("drain-timeout", listen.DefaultDrainTimeout, "how long shutdown waits for requests in flight")
	poll := fs.Duration("poll-interval", filemode.DefaultPollInterval, "how often the config files are checked for changes; 0 disables watching (SIGHUP still reloads)")
	ignoreUnknown := fs.Bool("ignore-unknown-kinds", false, "skip documents of kinds refproxy does not read (Deployments in a sample app) instead of failing")
	maxBytes := fs.Int64("max-manifest-bytes", loader.DefaultMaxFileBytes, "size limit of one manifest file, in bytes; a larger file is refused (-1: no limit)")
	upstreamTimeout := fs.Duration("upstream-timeout", proxy.DefaultUpstreamTimeout, "longest silence of a backend that has the whole request before its response header (504 beyond); rules with HTTPRoute timeouts use those instead; 0 disables")
	bodyTimeout := fs.Duration("request-body-timeout", proxy.DefaultRequestBodyTimeout, "longest pause in a client's upload (408 beyond); 0 disables")
	var ctl controllerFlags
	ctl.register(fs)
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q: pass manifests with --config", fs.Args()))
	}
	controllerMode := ctl.enabled || ctl.kubeconfig != "" || (len(configs) == 0 && env.Getenv("KUBERNETES_SERVICE_HOST") != "")
	switch {
	case controllerMode && len(configs) > 0:
		return BadInput(errors.New("--config and controller mode (--controller, --kubeconfig) exclude each other: choose files or a cluster"))
	case !controllerMode && len(configs) == 0:
		return BadInput(errors.New("--config is required: give at least one manifest file or directory (or --controller to read a cluster)"))
	case !controllerMode && ctl.used():
		return BadInput(errors.New("--gateway, --gateway-address, --address-service and --leader-elect need controller mode (--controller or --kubeconfig)"))
	}
	m, err := picker.ParseMode(*mode)
	if err != nil {
		return BadInput(fmt.Errorf("--pick-mode: %w", err))
	}
	if err := proxy.CheckAllZeroStatus(*allZero); err != nil {
		return BadInput(fmt.Errorf("--all-zero-status: %w", err))
	}
	if err := checkDurations(fs, *drain, *poll, *upstreamTimeout, *bodyTimeout); err != nil {
		return BadInput(err)
	}
	if controllerMode && flagSet(fs, "upstream-timeout", "request-body-timeout") {
		return BadInput(errors.New("--upstream-timeout and --request-body-timeout apply in file mode (--config); controller mode uses the defaults"))
	}
	if *maxBytes == 0 || *maxBytes < -1 {
		return BadInput(fmt.Errorf("--max-manifest-bytes %d: expected a positive number of bytes, or -1 for no limit", *maxBytes))
	}
	overrides := map[int32]string{}
	for _, pm := range portMaps {
		port, addr, err := listen.ParsePortMapping(pm)
		if err != nil {
			return BadInput(fmt.Errorf("--port-map: %w", err))
		}
		overrides[port] = addr
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if !seedSet {
		*seed = uint64(time.Now().UnixNano())
	}
	pollInterval := *poll
	if pollInterval == 0 {
		pollInterval = -1
	}
	log := env.Logger
	common := runtime.Options{
		Listen:       listen.Listener(*listenAddr, overrides),
		DrainTimeout: *drain,
		AdminAddress: *adminAddr,
		Logger:       log,
	}
	if controllerMode {
		common.Proxy = proxy.Options{AllZeroStatus: *allZero}
		return runControllerMode(ctx, env, &ctl, proxySettings{pickMode: m, seed: *seed, seedSet: seedSet, allZero: *allZero}, common)
	}
	log.Info("refproxy starting", "pick_mode", m, "seed", *seed, "seed_from_flag", seedSet,
		"all_zero_status", *allZero, "config", configs.String())

	common.Proxy = proxy.Options{AllZeroStatus: *allZero,
		UpstreamTimeout: disabledIfZero(*upstreamTimeout), RequestBodyTimeout: disabledIfZero(*bodyTimeout)}
	rt, err := runtime.New(common)
	if err != nil {
		return BadInput(err)
	}
	files := &runtime.Files{Options: filemode.Options{
		Paths: configs,
		Compile: filemode.Compiler(
			loader.Loader{IgnoreUnknownKinds: *ignoreUnknown, MaxFileBytes: *maxBytes, Logger: log},
			translate.Options{PickMode: m, Seed: *seed}, log),
		PollInterval: pollInterval,
		Logger:       log,
	}}
	if err := rt.Start(ctx, files); err != nil {
		if ctx.Err() != nil {
			log.Info("stopped during start-up", "reason", err)
			return nil
		}
		return BadInput(err)
	}

	// SIGHUP only leaves a request: the file source reloads in its own
	// goroutine, so this loop stays free and Run sees SIGTERM at once. The
	// proxy logs and records a failure; the last good table serves on.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupCtx, stopHup := context.WithCancel(ctx)
	defer stopHup()
	go func() {
		for {
			select {
			case <-hupCtx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reload requested")
				files.RequestReload()
			}
		}
	}()
	if err := rt.Run(ctx); err != nil {
		return Failed(err)
	}
	log.Info("stopped")
	return nil
}

// minPollInterval is the shortest --poll-interval: every poll reads and
// hashes every manifest, so a nanosecond interval would spin a core.
const minPollInterval = 100 * time.Millisecond

// checkDurations validates the duration flags: flag.Duration accepts any
// value time.ParseDuration does, negative ones and "1ns" included.
func checkDurations(fs *flag.FlagSet, drain, poll, upstream, body time.Duration) error {
	if drain <= 0 {
		return fmt.Errorf("--drain-timeout %s: expected a positive duration, e.g. 10s", drain)
	}
	if poll != 0 && poll < minPollInterval {
		return fmt.Errorf("--poll-interval %s: expected 0 (no watching) or at least %s", poll, minPollInterval)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"upstream-timeout", upstream}, {"request-body-timeout", body}} {
		if d.v < 0 {
			return fmt.Errorf("--%s %s: expected a positive duration, or 0 to disable it", d.name, d.v)
		}
		if d.v > 0 && d.v < time.Millisecond {
			return fmt.Errorf("--%s %s: expected at least 1ms, or 0 to disable it", d.name, d.v)
		}
	}
	return nil
}

// flagSet reports whether any of names was given on the command line.
func flagSet(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			set = set || f.Name == n
		}
	})
	return set
}

// disabledIfZero maps a flag's 0 ("disabled") to proxy.Options' negative.
func disabledIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
