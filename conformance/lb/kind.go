package lb

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"k8s.io/client-go/kubernetes"
)

// KindNetwork is the docker network kind puts its nodes on:
// $KIND_EXPERIMENTAL_DOCKER_NETWORK when set (kind's own override), else "kind".
func KindNetwork() string {
	if n := os.Getenv("KIND_EXPERIMENTAL_DOCKER_NETWORK"); n != "" {
		return n
	}
	return "kind"
}

// StartKind runs a Controller for kind cluster `cluster` in the background,
// until stop is called; stop waits for it to end and remove its routes.
// Routes are changed with `ip` directly as root, else through `sudo -n`.
func StartKind(kube kubernetes.Interface, cluster string, logger *slog.Logger) (stop func() error, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	opts, err := KindOptions(ctx, KindNetwork(), cluster)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("LoadBalancer for kind cluster %s: %w", cluster, err)
	}
	opts.Client, opts.Logger = kube, logger
	if os.Geteuid() != 0 {
		opts.Router = IPRoute{Command: []string{"sudo", "-n"}}
	}
	c, err := New(opts)
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}, nil
}
