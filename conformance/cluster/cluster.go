package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	kindload "sigs.k8s.io/kind/pkg/cmd/kind/load/docker-image"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultName = "splitproof"
	DefaultWait = 3 * time.Minute
)

// Options say which cluster to create or reuse.
type Options struct {
	// Name is the kind cluster name (default DefaultName).
	Name string
	// NodeImage is the kind node image; empty means kind's own default stock
	// image (online use). The offline image built by ci/kind/node-image.sh is
	// passed here.
	NodeImage string
	// Kubeconfig is the file the cluster's kubeconfig is written to; it is
	// never merged into the user's ~/.kube/config unless that path is given.
	Kubeconfig string
	// Reuse keeps a running cluster of the same name instead of failing.
	Reuse bool
	// AnyImage lets Reuse accept a cluster whatever its node image (for
	// loading images into it); otherwise a reused cluster must run NodeImage.
	AnyImage bool
	// Wait bounds how long Create waits for the control plane (default DefaultWait).
	Wait time.Duration
}

// Cluster is a running kind cluster.
type Cluster struct {
	Name       string
	Kubeconfig string
	// Reused reports that the cluster was running before Ensure was called.
	Reused bool

	provider *kindcluster.Provider
	logger   *slog.Logger
}

// Ensure creates the cluster described by opts, or returns the running one
// when opts.Reuse is set and a cluster of that name exists.
func Ensure(ctx context.Context, opts Options, logger *slog.Logger) (*Cluster, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Wait == 0 {
		opts.Wait = DefaultWait
	}
	if opts.Kubeconfig == "" {
		return nil, errors.New("cluster options: Kubeconfig path is empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	provider := kindcluster.NewProvider(
		kindcluster.ProviderWithLogger(kindLogger{logger}),
		kindcluster.ProviderWithDocker(),
	)
	c := &Cluster{Name: opts.Name, Kubeconfig: opts.Kubeconfig, provider: provider, logger: logger}

	existing, err := provider.List()
	if err != nil {
		return nil, fmt.Errorf("list kind clusters: %w", err)
	}
	if slices.Contains(existing, opts.Name) {
		if !opts.Reuse {
			return nil, fmt.Errorf("kind cluster %q already exists (delete it, or reuse it with KEEP_CLUSTER=1)", opts.Name)
		}
		if !opts.AnyImage && opts.NodeImage != "" {
			if err := c.checkNodeImage(opts.NodeImage); err != nil {
				return nil, err
			}
		}
		logger.Info("reusing kind cluster", "name", opts.Name)
		if err := os.MkdirAll(filepath.Dir(opts.Kubeconfig), 0o755); err != nil {
			return nil, fmt.Errorf("kubeconfig directory: %w", err)
		}
		if err := provider.ExportKubeConfig(opts.Name, opts.Kubeconfig, false); err != nil {
			return nil, fmt.Errorf("export kubeconfig of kind cluster %q to %s: %w", opts.Name, opts.Kubeconfig, err)
		}
		c.Reused = true
		return c, nil
	}

	logger.Info("creating kind cluster", "name", opts.Name, "image", opts.NodeImage)
	start := time.Now()
	createOpts := []kindcluster.CreateOption{
		kindcluster.CreateWithRawConfig([]byte(kindConfig)),
		kindcluster.CreateWithKubeconfigPath(opts.Kubeconfig),
		kindcluster.CreateWithWaitForReady(opts.Wait),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	}
	if opts.NodeImage != "" {
		createOpts = append(createOpts, kindcluster.CreateWithNodeImage(opts.NodeImage))
	}
	if err := os.MkdirAll(filepath.Dir(opts.Kubeconfig), 0o755); err != nil {
		return nil, fmt.Errorf("kubeconfig directory: %w", err)
	}
	if err := provider.Create(opts.Name, createOpts...); err != nil {
		return nil, fmt.Errorf("create kind cluster %q from node image %q: %w", opts.Name, opts.NodeImage, err)
	}
	logger.Info("kind cluster ready", "name", opts.Name, "took", time.Since(start).Round(time.Second))
	return c, nil
}

// kindConfig is one control-plane node that also runs workloads: the offline
// node image's static CNI configuration covers a single node only.
const kindConfig = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
`

// checkNodeImage refuses to reuse a cluster that runs another node image, so
// KEEP_CLUSTER never silently tests an old build.
func (c *Cluster) checkNodeImage(want string) error {
	nodeList, err := c.provider.ListNodes(c.Name)
	if err != nil {
		return fmt.Errorf("list nodes of kind cluster %q: %w", c.Name, err)
	}
	for _, n := range nodeList {
		out, err := exec.Command("docker", "inspect", "-f", "{{.Config.Image}}", n.String()).Output()
		if err != nil {
			return fmt.Errorf("inspect kind node %s: %w", n.String(), err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			return fmt.Errorf("kind cluster %q runs node image %s, not %s: delete it (make kind-delete) to switch", c.Name, got, want)
		}
	}
	return nil
}

// Delete removes the cluster and its kubeconfig entry.
func (c *Cluster) Delete() error {
	if err := c.provider.Delete(c.Name, c.Kubeconfig); err != nil {
		return fmt.Errorf("delete kind cluster %q: %w", c.Name, err)
	}
	return nil
}

// Delete removes the named cluster if it exists; kubeconfig is the file its
// entry is removed from (empty: the kind default).
func Delete(name, kubeconfig string, logger *slog.Logger) error {
	if name == "" {
		name = DefaultName
	}
	provider := kindcluster.NewProvider(kindcluster.ProviderWithLogger(kindLogger{logger}), kindcluster.ProviderWithDocker())
	if err := provider.Delete(name, kubeconfig); err != nil {
		return fmt.Errorf("delete kind cluster %q: %w", name, err)
	}
	return nil
}

// LoadImages copies local docker images into every node of the cluster by
// running kind's own `kind load docker-image` command in-process, so the
// loading is kind's code: an image a node already holds with the same ID is
// skipped, one it holds under another tag is re-tagged, and the rest are
// written by one docker save and loaded into the nodes that lack them.
//
// kind's command takes no context: ctx is checked before it starts, but a
// load under way runs to its end. It picks its node provider as the kind
// binary does (docker unless KIND_EXPERIMENTAL_PROVIDER says otherwise).
func (c *Cluster) LoadImages(ctx context.Context, images []string) error {
	if len(images) == 0 {
		return fmt.Errorf("load images into kind cluster %q: no images given", c.Name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cmd := kindload.NewCommand(kindLogger{c.logger}, kindcmd.IOStreams{Out: io.Discard, ErrOut: io.Discard})
	// LoadImages returns the error, so cobra's own printing of it and of
	// the usage is off.
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(loadArgs(c.Name, images))
	start := time.Now()
	if err := cmd.ExecuteContext(ctx); err != nil {
		return fmt.Errorf("kind load docker-image %s into cluster %q (images must be in the local docker; make kind-images builds them): %w",
			strings.Join(images, " "), c.Name, err)
	}
	c.logger.Info("images on every node", "cluster", c.Name, "images", images, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadArgs are the arguments of kind's load command for the named cluster.
// --name is always given, so kind's KIND_CLUSTER_NAME override cannot pick
// another cluster, and "--" keeps an image reference from being read as a
// flag.
func loadArgs(name string, images []string) []string {
	return append([]string{"--name", name, "--"}, images...)
}
