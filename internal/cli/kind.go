package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/splitproof/splitproof/conformance/cluster"
)

func kindCommand() Command {
	return Command{Name: "kind", Short: "create, load images into or delete the kind cluster the e2e suites use", Run: runKind}
}

const kindSynopsis = `kind create|load|delete [flags] [IMAGE…]

Manages the kind cluster of the end-to-end suites with the kind library (no
kind binary needed; docker must run):
  create   create the cluster from --image, or reuse it with --reuse
  load     copy local docker images into every node (skips ones already there)
  delete   delete the cluster
The offline node image comes from ci/kind/node-image.sh (make kind-images);
see docs/kind.md.`

const kindExamples = `  splitproof kind create --image "$(ci/kind/node-image.sh)" --kubeconfig /tmp/kc
  splitproof kind load curlimages/curl:7.83.1 docker.io/istio/tcp-echo-server:1.2
  splitproof kind delete`

func runKind(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "load" && args[0] != "delete") {
		fs := NewFlagSet(env, "kind", kindSynopsis, kindExamples)
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		return BadInput(fmt.Errorf("kind: want create, load or delete, got %q", args))
	}
	action := args[0]
	fs := NewFlagSet(env, "kind "+action, kindSynopsis, kindExamples)
	name := fs.String("name", cluster.DefaultName, "kind cluster name")
	image := fs.String("image", env.Getenv("KIND_NODE_IMAGE"), "node image for create (default $KIND_NODE_IMAGE, else kind's default)")
	defaultKubeconfig := env.Getenv("KUBECONFIG")
	if defaultKubeconfig == "" {
		defaultKubeconfig = filepath.Join(os.TempDir(), "splitproof-kind-kubeconfig")
	}
	kubeconfig := fs.String("kubeconfig", defaultKubeconfig, "kubeconfig file to write (create) or clean (delete)")
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
		_, err = fmt.Fprintf(env.Stdout, "loaded %d images into %s\n", fs.NArg(), c.Name)
		return err
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
