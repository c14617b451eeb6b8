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
// Instances share the cluster's Lease (KindElection): while another one
// serves the cluster, this one stands by and takes over when it goes.
func StartKind(kube kubernetes.Interface, cluster string, logger *slog.Logger) (stop func() error, err error) {
	opts, err := KindOptions(context.Background(), KindNetwork(), cluster)
	if err != nil {
		return nil, fmt.Errorf("LoadBalancer for kind cluster %s: %w", cluster, err)
	}
	opts.Client, opts.Logger = kube, logger
	if os.Geteuid() != 0 {
		opts.Router = IPRoute{Command: []string{"sudo", "-n"}}
	}
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	return StartElected(kube, c, KindElection(cluster), logger)
}
