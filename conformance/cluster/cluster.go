package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
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

// LoadImages copies local docker images into every node's containerd, like
// `kind load docker-image`, skipping images a node already holds with the
// same ID. One docker save of the missing images is loaded per node, so
// images that share a base layer cost it once.
func (c *Cluster) LoadImages(ctx context.Context, images []string) error {
	nodeList, err := c.provider.ListInternalNodes(c.Name)
	if err != nil {
		return fmt.Errorf("list nodes of kind cluster %q: %w", c.Name, err)
	}
	if len(nodeList) == 0 {
		return fmt.Errorf("kind cluster %q has no nodes", c.Name)
	}
	for _, n := range nodeList {
		var missing []string
		for _, image := range images {
			id, err := dockerImageID(ctx, image)
			if err != nil {
				return err
			}
			if nodeID, err := nodeutils.ImageID(n, NormalizeImage(image)); err == nil && nodeID == id {
				continue
			}
			missing = append(missing, image)
		}
		if len(missing) == 0 {
			c.logger.Info("images already on node", "node", n.String(), "count", len(images))
			continue
		}
		start := time.Now()
		if err := loadArchive(ctx, n, missing); err != nil {
			return err
		}
		c.logger.Info("loaded images", "node", n.String(), "images", missing, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func loadArchive(ctx context.Context, n nodes.Node, images []string) error {
	f, err := os.CreateTemp("", "splitproof-images-*.tar")
	if err != nil {
		return fmt.Errorf("temporary image archive: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", append([]string{"save"}, images...)...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker save %s: %w: %s", strings.Join(images, " "), err, strings.TrimSpace(stderr.String()))
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("rewind image archive: %w", err)
	}
	if err := nodeutils.LoadImageArchive(n, f); err != nil {
		return fmt.Errorf("load images into kind node %s: %w", n.String(), err)
	}
	return nil
}

func dockerImageID(ctx context.Context, image string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "-f", "{{.Id}}", image).Output()
	if err != nil {
		return "", fmt.Errorf("image %s is not in the local docker (build it with make kind-images): %w", image, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// NormalizeImage spells a docker image reference the way containerd stores
// it: with its registry (docker.io by default), "library/" for official
// images and the "latest" tag when none is given.
func NormalizeImage(ref string) string {
	name, digest, hasDigest := strings.Cut(ref, "@")
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash {
		name = "docker.io/library/" + name
	} else if !strings.ContainsAny(first, ".:") && first != "localhost" {
		name = "docker.io/" + name
	}
	if hasDigest {
		return name + "@" + digest
	}
	if !strings.Contains(name[strings.LastIndex(name, "/")+1:], ":") {
		name += ":latest"
	}
	return name
}
