package crdsync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../../../.." // the repository root, from this package

func TestSyncThenDiff(t *testing.T) {
	dst := t.TempDir()
	if err := Diff(root, dst); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("Diff of an empty directory: %v, want missing files", err)
	}
	if err := Sync(root, dst); err != nil {
		t.Fatal(err)
	}
	if err := Diff(root, dst); err != nil {
		t.Fatalf("Diff right after Sync: %v", err)
	}

	changed := filepath.Join(dst, "gateway.networking.k8s.io_httproutes.yaml")
	if err := os.WriteFile(changed, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dst, Prefix+"extra.yaml")
	if err := os.WriteFile(extra, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file without the prefix (the generated AgentgatewayBackend CRD, in
	// the real directory) is neither reported nor removed.
	generated := filepath.Join(dst, "agentgateway.dev_agentgatewaybackends.yaml")
	if err := os.WriteFile(generated, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Diff(root, dst)
	if err == nil || !strings.Contains(err.Error(), changed+" differs") || !strings.Contains(err.Error(), extra+" has no source") {
		t.Fatalf("Diff after edits: %v", err)
	}
	if strings.Contains(err.Error(), generated) {
		t.Fatalf("Diff reports a file that is not crdsync's: %v", err)
	}
	if err := Sync(root, dst); err != nil {
		t.Fatal(err)
	}
	if err := Diff(root, dst); err != nil {
		t.Fatalf("Diff after the second Sync: %v", err)
	}
	if _, err := os.Stat(extra); !os.IsNotExist(err) {
		t.Fatalf("Sync left %s: %v", extra, err)
	}
	if _, err := os.Stat(generated); err != nil {
		t.Fatalf("Sync removed %s, which is not crdsync's: %v", generated, err)
	}
}

func TestSourcesAreGatewayAPIOnly(t *testing.T) {
	srcs, err := Sources(root)
	if err != nil {
		t.Fatal(err)
	}
	var gw bool
	for _, s := range srcs {
		gw = gw || s.Name == "gateway.networking.k8s.io_gateways.yaml"
		if !strings.HasPrefix(s.Name, Prefix) {
			t.Errorf("source %s is not a Gateway API file", s.Path)
		}
	}
	if !gw {
		t.Fatalf("sources %v lack the Gateway CRD", srcs)
	}
}
