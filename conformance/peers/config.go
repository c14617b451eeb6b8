package peers

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"strconv"
	"strings"
	"text/template"
)

// Host is the hostname of the doc's traffic-split HTTPRoute.
const Host = "traffic.split.example"

// templates holds every gateway configuration template. Files named
// *-common.tmpl only define shared blocks; the others are whole configs.
//
//go:embed testdata/*.tmpl
var templates embed.FS

// Backend is one backendRef of the route as a gateway upstream.
type Backend struct {
	// Name is the backendRef's Service name (helloworld-v1).
	Name string
	// Addr is where its helloworld server listens (127.0.0.1:PORT).
	Addr string
	// Weight is the backendRef's weight.
	Weight int
}

// Config is what a template is rendered with.
type Config struct {
	// Dir is the gateway's working directory: pid file, logs, temp files.
	Dir string
	// Listen is the loopback host:port the gateway serves on.
	Listen string
	// Host is the route's hostname.
	Host string
	// Backends are the route's backendRefs in order.
	Backends []Backend
}

// Port is the port of Listen.
func (c Config) Port() (string, error) {
	_, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", c.Listen, err)
	}
	return port, nil
}

// Weights is the weights as the doc writes them, "10/10/80".
func (c Config) Weights() string {
	parts := make([]string, len(c.Backends))
	for i, b := range c.Backends {
		parts[i] = strconv.Itoa(b.Weight)
	}
	return strings.Join(parts, "/")
}

// Percents gives each backend's share for nginx's split_clients, which
// takes percentages with at most two decimals: every backend but the last
// gets its share rounded down to 0.01 %, the last gets "*" (the rest), so
// the shares always add up to exactly 100 %.
func (c Config) Percents() []string {
	total := 0
	for _, b := range c.Backends {
		total += b.Weight
	}
	out := make([]string, len(c.Backends))
	for i, b := range c.Backends {
		if i == len(c.Backends)-1 {
			out[i] = "*"
			break
		}
		hundredths := b.Weight * 10000 / total
		out[i] = fmt.Sprintf("%d.%02d%%", hundredths/100, hundredths%100)
	}
	return out
}

// Repeated lists each backend as often as its weight divided by the
// weights' greatest common divisor (10/10/80 → 1, 1, 8 times): how a split
// is written for a policy that ignores weights, such as Caddy's random,
// which picks uniformly among the upstreams it is given.
func (c Config) Repeated() []Backend {
	g := 0
	for _, b := range c.Backends {
		g = gcd(g, b.Weight)
	}
	var out []Backend
	for _, b := range c.Backends {
		if g == 0 {
			break
		}
		for range b.Weight / g {
			out = append(out, b)
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (c Config) validate() error {
	if c.Dir == "" || c.Listen == "" || c.Host == "" {
		return fmt.Errorf("config needs Dir, Listen and Host (have %q, %q, %q)", c.Dir, c.Listen, c.Host)
	}
	if _, err := c.Port(); err != nil {
		return err
	}
	if len(c.Backends) == 0 {
		return fmt.Errorf("config has no backends")
	}
	for i, b := range c.Backends {
		if b.Weight <= 0 {
			return fmt.Errorf("backend %d (%s): weight %d: the templates take positive weights only", i, b.Name, b.Weight)
		}
	}
	return nil
}

// Render renders the template testdata/NAME with c.
func Render(name string, c Config) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	t, err := template.New("").Option("missingkey=error").ParseFS(templates, "testdata/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, c); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
