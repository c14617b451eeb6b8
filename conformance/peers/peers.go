package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Class is how a gateway's picks relate to each other, the property a
// scheduler-aware verdict needs.
type Class string

const (
	// Deterministic: a fixed interleaving whose period is the sum of the
	// (reduced) weights, such as smooth weighted round robin.
	Deterministic Class = "deterministic"
	// Bursty: deterministic, but each backend gets its weight's worth of
	// consecutive requests.
	Bursty Class = "bursty"
	// Independent: a random draw per request.
	Independent Class = "independent"
)

// Peer is one gateway with one load-balancing algorithm.
type Peer struct {
	// Gateway names the program ("nginx", "haproxy", "caddy").
	Gateway string
	// Algorithm names the configuration's load-balancing method.
	Algorithm string
	// Template is the file under testdata/ holding the configuration.
	Template string
	// Class is how its picks relate to each other.
	Class Class
	// Args are the gateway's arguments given its working directory and
	// configuration file; it must stay in the foreground as one process.
	Args func(dir, conf string) []string
}

// Random reports whether the peer draws at random, so that one run says
// nothing about the next and the tests repeat it.
func (p Peer) Random() bool { return p.Class == Independent }

// Name is "gateway/algorithm".
func (p Peer) Name() string { return p.Gateway + "/" + p.Algorithm }

func nginxArgs(dir, conf string) []string {
	// -e: nginx opens its compiled-in error log before reading the
	// configuration; pointing it into dir keeps it off /var/log.
	return []string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
}

func haproxyArgs(_, conf string) []string {
	// -db: foreground, no daemon, no master-worker: one process to stop.
	return []string{"-db", "-f", conf}
}

func caddyArgs(_, conf string) []string {
	return []string{"run", "--config", conf, "--adapter", "caddyfile"}
}

// Peers lists every gateway and algorithm the tests replay through.
func Peers() []Peer {
	return []Peer{
		{Gateway: "nginx", Algorithm: "smooth-wrr", Template: "nginx-swrr.conf.tmpl", Class: Deterministic, Args: nginxArgs},
		{Gateway: "nginx", Algorithm: "random", Template: "nginx-random.conf.tmpl", Class: Independent, Args: nginxArgs},
		{Gateway: "nginx", Algorithm: "split_clients", Template: "nginx-split-clients.conf.tmpl", Class: Independent, Args: nginxArgs},
		{Gateway: "haproxy", Algorithm: "roundrobin", Template: "haproxy-roundrobin.cfg.tmpl", Class: Deterministic, Args: haproxyArgs},
		{Gateway: "haproxy", Algorithm: "random", Template: "haproxy-random.cfg.tmpl", Class: Independent, Args: haproxyArgs},
		{Gateway: "caddy", Algorithm: "weighted_round_robin", Template: "caddy-wrr.Caddyfile.tmpl", Class: Bursty, Args: caddyArgs},
		{Gateway: "caddy", Algorithm: "random", Template: "caddy-random.Caddyfile.tmpl", Class: Independent, Args: caddyArgs},
	}
}

// misrouteTemplate is HAProxy configured with a Host rule that compares the
// port too, the classic misroute: not a peer to pass, a mistake the
// replay must show.
const misrouteTemplate = "haproxy-host-with-port.cfg.tmpl"

// BinaryEnv names the environment variable that may give a gateway's
// binary: Caddy is built by ci/kind/tools.sh into the cache, not installed.
var BinaryEnv = map[string]string{"caddy": "SPLITPROOF_CADDY"}

// Binary finds the gateway's program: the file its BinaryEnv variable names,
// else on PATH or in /usr/sbin (Debian's nginx and haproxy live there, and
// /usr/sbin is not on every PATH).
func Binary(gateway string, getenv func(string) string) (string, error) {
	if v := BinaryEnv[gateway]; v != "" {
		if p := getenv(v); p != "" {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s=%s: %w", v, p, err)
			}
			return p, nil
		}
	}
	if p, err := exec.LookPath(gateway); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", gateway)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: not on PATH nor in /usr/sbin", gateway)
	}
	return p, nil
}

// InstallHint says how to get a missing gateway.
func InstallHint(gateway string) string {
	switch gateway {
	case "caddy":
		return "build it with `bash ci/kind/tools.sh caddy` and set SPLITPROOF_CADDY=<printed dir>/caddy (ci/integration.sh does both)"
	case "nginx":
		return "install Debian's nginx-light (ci/install.sh test)"
	default:
		return "install Debian's " + gateway + " (ci/install.sh test)"
	}
}
