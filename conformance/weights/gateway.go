package weights

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/splitproof/splitproof/scenarios"
	"github.com/splitproof/splitproof/scenarios/replay"
)

// Gateway is a gateway someone else runs, configured with the routes of
// the cases to run (`splitproof replay --show CASE` prints each one's
// hosts, matches and weighted backends). It has one mode: its order is
// classified and reported, never required, since how it schedules is its
// own business; the verdict is decided under the model that fits.
type Gateway struct {
	// URL is the gateway as `replay --gateway` takes it; PortForward is
	// where the snippets' localhost:8080 goes (empty: the gateway).
	URL, PortForward string
}

var _ Target = Gateway{}

// Modes is the gateway's one mode.
func (Gateway) Modes() []Mode { return []Mode{{Name: "gateway"}} }

// Open returns the gateway's endpoint; there is nothing to release.
func (g Gateway) Open(_ context.Context, _ *scenarios.Scenario, _ Mode) (*replay.Endpoint, func() error, error) {
	ep, err := replay.AddressEndpoint(g.URL, g.PortForward)
	if err != nil {
		return nil, nil, err
	}
	return ep, func() error { return nil }, nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as one JUnit test suite, a test case per
// case and mode: a result not as expected is a <failure>, a case that
// could not run an <error>; notes (weight-0 bounds, statuses, timings)
// go to system-out.
func WriteJUnit(w io.Writer, rs []Result) error {
	s := junitSuite{Name: "splitproof weights", Tests: len(rs)}
	var total float64
	for _, r := range rs {
		secs := r.Wall.Seconds()
		total += secs
		c := junitCase{
			Name: fmt.Sprintf("%s (%s)", r.Case, r.Mode), ClassName: "weights." + r.Case,
			Time: fmt.Sprintf("%.3f", secs), Output: strings.Join(r.Notes, "\n"),
		}
		switch {
		case r.Err != "":
			s.Errors++
			c.Error = &junitMessage{Message: r.Err, Type: "Error", Text: r.Err}
		case !r.AsExpected:
			s.Failures++
			msg := fmt.Sprintf("expected %s, observed %s", r.Expect, r.Observed)
			c.Failure = &junitMessage{Message: msg, Type: "NotAsExpected", Text: strings.Join(append([]string{msg}, r.Failures...), "\n")}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = fmt.Sprintf("%.3f", total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
