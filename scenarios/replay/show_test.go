package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/splitproof/splitproof/scenarios"
)

// TestShowGolden: what `replay --show` prints for every built-in scenario
// (text and JSON), so a change to a scenario's routes, snippets or
// classifier shows up here as a change of what a gateway must implement.
func TestShowGolden(t *testing.T) {
	all, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			sh, err := Describe(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := sh.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := sh.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string][]byte{s.Name + ".txt": text.Bytes(), s.Name + ".json": js.Bytes()} {
				checkGolden(t, filepath.Join("testdata", "show", name), got)
			}
		})
	}
}

// TestShowExample1: the facts a user of another gateway needs for the
// doc's Example 1, asserted one by one.
func TestShowExample1(t *testing.T) {
	s := mustScenario(t, "example1-ab-testing")
	sh, err := Describe(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.Routes) != 1 || strings.Join(sh.Routes[0].Hostnames, ",") != "traffic.split.example" {
		t.Fatalf("routes = %+v", sh.Routes)
	}
	var weights []string
	for _, b := range sh.Routes[0].Rules[0].Backends {
		weights = append(weights, b.Ref+"="+itoa32(b.Weight)+"→"+b.Category)
	}
	if got := strings.Join(weights, " "); got != "helloworld-v1:5000=10→v1 helloworld-v2:5000=10→v2 helloworld-v3:5000=80→v3" {
		t.Errorf("backends = %s", got)
	}
	hosts := map[string]string{}
	for _, sn := range sh.Snippets {
		if len(sn.Requests) != 1 {
			t.Fatalf("%s: %d requests per iteration, want 1", sn.Name, len(sn.Requests))
		}
		hosts[sn.Name] = sn.Requests[0].Method + " " + sn.Requests[0].URL + " Host " + sn.Requests[0].Host
	}
	want := map[string]string{
		"external-address": "GET http://INGRESS_GW_ADDRESS:80/hello Host traffic.split.example:8080",
		"port-forward":     "GET http://localhost:8080/hello Host traffic.split.example",
	}
	for k, v := range want {
		if hosts[k] != v {
			t.Errorf("%s sends %q, want %q", k, hosts[k], v)
		}
	}
	var js bytes.Buffer
	if err := sh.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Show
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Classify == "" {
		t.Fatalf("JSON round trip: %v, classify %q", err, back.Classify)
	}
}

func itoa32(v int32) string { return strconv.Itoa(int(v)) }
