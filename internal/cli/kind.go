package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/splitproof/splitproof/conformance/cluster"
	"github.com/splitproof/splitproof/conformance/lb"
)

func kindCommand() Command {
	return Command{Name: "kind", Short: "create, load images into, serve LoadBalancers of or delete the kind cluster the e2e suites use", Run: runKind}
}

const kindSynopsis = `kind create|load|lb|delete [flags] [IMAGE…]

Manages the kind cluster of the end-to-end suites with the kind library (no
kind binary needed; docker must run):
  create   create the cluster from --image, or reuse it with --reuse
  load     copy local docker images into every node with kind's own load
           docker-image (skips ones already there)
  lb       serve the cluster's LoadBalancer Services until stopped (SIGINT or
           SIGTERM): each gets an address of the kind docker network, routed
           from this host, so the doc's $INGRESS_GW_ADDRESS answers; needs
           root or sudo -n for ip route. Instances share a Lease: a second one
           (or a test suite's) stands by and takes over when the first goes
  delete   delete the cluster
The offline node image comes from ci/kind/node-image.sh (make kind-images);
see docs/kind.md.`

const kindExamples = `  splitproof kind create --image "$(ci/kind/node-image.sh)" --kubeconfig /tmp/kc
  splitproof kind load curlimages/curl:7.83.1 docker.io/istio/tcp-echo-server:1.2
  sudo splitproof kind lb --kubeconfig /tmp/kc &
  splitproof kind delete`

func runKind(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "load" && args[0] != "lb" && args[0] != "delete") {
		fs := NewFlagSet(env, "kind", kindSynopsis, kindExamples)
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		return BadInput(fmt.Errorf("kind: want create, load, lb or delete, got %q", args))
	}
	action := args[0]
	fs := NewFlagSet(env, "kind "+action, kindSynopsis, kindExamples)
	name := fs.String("name", cluster.DefaultName, "kind cluster name")
	image := fs.String("image", env.Getenv("KIND_NODE_IMAGE"), "node image for create (default $KIND_NODE_IMAGE, else kind's default)")
	defaultKubeconfig := env.Getenv("KUBECONFIG")
	if defaultKubeconfig == "" {
		defaultKubeconfig = filepath.Join(os.TempDir(), "splitproof-kind-kubeconfig")
	}
	kubeconfig := fs.String("kubeconfig", defaultKubeconfig, "kubeconfig file to write (create), read (lb) or clean (delete)")
	reuse := fs.Bool("reuse", false, "create: reuse a running cluster of that name instead of failing")
	if err := ParseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch action {
	case "create":
		if fs.NArg() > 0 {
			return BadInput(fmt.Errorf("kind create: unexpected arguments %q", fs.Args()))
		}
		c, err := cluster.Ensure(ctx, cluster.Options{Name: *name, NodeImage: *image, Kubeconfig: *kubeconfig, Reuse: *reuse}, env.Logger)
		if err != nil {
			return Failed(err)
		}
		_, err = fmt.Fprintf(env.Stdout, "cluster %s ready; kubeconfig: %s\n", c.Name, c.Kubeconfig)
		return err
	case "load":
		if fs.NArg() == 0 {
			return BadInput(fmt.Errorf("kind load: no images given"))
		}
		c, err := cluster.Ensure(ctx, cluster.Options{Name: *name, NodeImage: *image, Kubeconfig: *kubeconfig, Reuse: true, AnyImage: true}, env.Logger)
		if err != nil {
			return Failed(err)
		}
		if err := c.LoadImages(ctx, fs.Args()); err != nil {
			return Failed(err)
		}
		// kind skips the images a node already holds, so this says where
		// the images are rather than how many were copied.
		_, err = fmt.Fprintf(env.Stdout, "%d images on every node of %s\n", fs.NArg(), c.Name)
		return err
	case "lb":
		if fs.NArg() > 0 {
			return BadInput(fmt.Errorf("kind lb: unexpected arguments %q", fs.Args()))
		}
		return serveKindLB(ctx, env, *name, *kubeconfig)
	default:
		if fs.NArg() > 0 {
			return BadInput(fmt.Errorf("kind delete: unexpected arguments %q", fs.Args()))
		}
		if err := cluster.Delete(*name, *kubeconfig, env.Logger); err != nil {
			return Failed(err)
		}
		_, err := fmt.Fprintf(env.Stdout, "cluster %s deleted\n", *name)
		return err
	}
}

// serveKindLB runs the cluster's LoadBalancer until ctx ends (the signal
// Main turns into a cancellation), then removes its routes and hands the
// Lease over.
func serveKindLB(ctx context.Context, env *Env, name, kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return BadInput(fmt.Errorf("kind lb: kubeconfig %s: %w", kubeconfig, err))
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return BadInput(fmt.Errorf("kind lb: kubeconfig %s: %w", kubeconfig, err))
	}
	stop, err := lb.StartKind(kube, name, env.Logger.With("component", "lb"))
	if err != nil {
		return Failed(err)
	}
	if _, err := fmt.Fprintf(env.Stdout, "serving the LoadBalancers of kind cluster %s until SIGINT or SIGTERM\n", name); err != nil {
		return errors.Join(err, stop())
	}
	<-ctx.Done()
	if err := stop(); err != nil {
		return Failed(fmt.Errorf("kind lb: %w", err))
	}
	return nil
}
