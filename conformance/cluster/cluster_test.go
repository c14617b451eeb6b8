package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	kindload "sigs.k8s.io/kind/pkg/cmd/kind/load/docker-image"
)

// TestLoadArgsParseAsKindExpects parses loadArgs with kind's own command, the
// one LoadImages runs, so a change of kind's flags fails here rather than in
// a kind cluster. Nothing runs: docker is not needed.
func TestLoadArgsParseAsKindExpects(t *testing.T) {
	tests := []struct {
		name   string
		images []string
	}{
		{"one image", []string{"curlimages/curl:7.83.1"}},
		{"several images keep their order", []string{"docker.io/istio/tcp-echo-server:1.2", "busybox", "localhost:5000/splitproof"}},
		{"an image that looks like a flag stays an image", []string{"-n", "--nodes=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KIND_CLUSTER_NAME", "not-this-one")
			cmd := kindload.NewCommand(kindLogger{slog.New(slog.DiscardHandler)}, kindcmd.IOStreams{Out: io.Discard, ErrOut: io.Discard})
			if err := cmd.ParseFlags(loadArgs("splitproof-test", tt.images)); err != nil {
				t.Fatalf("kind's load command rejects %q: %v", loadArgs("splitproof-test", tt.images), err)
			}
			if got, err := cmd.Flags().GetString("name"); err != nil || got != "splitproof-test" {
				t.Errorf("--name = %q (%v), want splitproof-test", got, err)
			}
			if !cmd.Flags().Changed("name") {
				t.Error("--name not marked as set: kind would replace it with $KIND_CLUSTER_NAME")
			}
			if got := cmd.Flags().Args(); !slices.Equal(got, tt.images) {
				t.Errorf("positional arguments = %q, want the images %q", got, tt.images)
			}
			if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
				t.Errorf("kind's argument check fails: %v", err)
			}
		})
	}
}

// TestLoadImagesNeedsImages checks the guards that run before kind is
// called, so no docker is needed.
func TestLoadImagesNeedsImages(t *testing.T) {
	c := &Cluster{Name: "splitproof-test", logger: slog.New(slog.DiscardHandler)}
	err := c.LoadImages(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "no images given") {
		t.Errorf("LoadImages with no images: error %v, want one saying no images were given", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.LoadImages(ctx, []string{"busybox"}); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadImages with an ended context: error %v, want %v", err, context.Canceled)
	}
}
