package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/splitproof/splitproof/refproxy/controller"
	"github.com/splitproof/splitproof/refproxy/picker"
	"github.com/splitproof/splitproof/refproxy/runtime"
	"github.com/splitproof/splitproof/refproxy/translate"
)

// controllerFlags are the proxy flags of controller mode.
type controllerFlags struct {
	enabled         bool
	kubeconfig      string
	gateways        namespacedNames
	addresses       stringList
	addressService  string
	leaderElect     bool
	leaderNamespace string
}

func (c *controllerFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.enabled, "controller", false, "controller mode: read Gateway API objects from the cluster (in-cluster configuration, or --kubeconfig) instead of --config files")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster to serve; implies --controller")
	fs.Var(&c.gateways, "gateway", "serve only Gateway NAMESPACE/NAME (repeatable, or comma-separated); default: every Gateway of the GatewayClasses naming controller "+translate.DefaultControllerName)
	fs.Var(&c.addresses, "gateway-address", "address (IP or hostname) written to every served Gateway's status.addresses; repeatable")
	fs.StringVar(&c.addressService, "address-service", "", "write the LoadBalancer ingress (else ClusterIP) of Service NAMESPACE/NAME to status.addresses")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "with several replicas: all serve traffic, only the elected one writes status")
	fs.StringVar(&c.leaderNamespace, "leader-elect-namespace", "", "namespace of the leader election Lease (default: the Pod's namespace)")
}

// used reports whether a controller-only flag was given.
func (c *controllerFlags) used() bool {
	return len(c.gateways) > 0 || len(c.addresses) > 0 || c.addressService != "" || c.leaderElect || c.leaderNamespace != ""
}

// proxySettings are the picking settings both modes share and log.
type proxySettings struct {
	pickMode picker.Mode
	seed     uint64
	seedSet  bool
	allZero  int
}

func parseNamespacedName(flagName, s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("--%s %q: expected NAMESPACE/NAME", flagName, s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func (c *controllerFlags) restConfig() (*rest.Config, error) {
	if c.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", c.kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster configuration (give --kubeconfig outside a Pod): %w", err)
	}
	return cfg, nil
}

func runControllerMode(ctx context.Context, env *Env, cf *controllerFlags, common proxySettings, rtOpts runtime.Options) error {
	log := env.Logger
	gateways := []types.NamespacedName(cf.gateways)
	var addresses controller.AddressFunc
	switch {
	case len(cf.addresses) > 0 && cf.addressService != "":
		return BadInput(errors.New("--gateway-address and --address-service exclude each other"))
	case len(cf.addresses) > 0:
		addresses = controller.StaticAddresses(cf.addresses...)
	case cf.addressService != "":
		nn, err := parseNamespacedName("address-service", cf.addressService)
		if err != nil {
			return BadInput(err)
		}
		addresses = controller.ServiceAddresses(nn)
	}
	cfg, err := cf.restConfig()
	if err != nil {
		return BadInput(err)
	}
	// controller-runtime's packages log through its global logger; without
	// one it prints a warning and a stack trace.
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))
	log.Info("refproxy starting in controller mode", "api_server", cfg.Host, "pick_mode", common.pickMode,
		"seed", common.seed, "seed_from_flag", common.seedSet, "all_zero_status", common.allZero,
		"gateways", cf.gateways.String(), "leader_elect", cf.leaderElect)

	rt, err := runtime.New(rtOpts)
	if err != nil {
		return BadInput(err)
	}
	src := &runtime.Cluster{Config: cfg, Options: controller.Options{
		Translate:               translate.Options{PickMode: common.pickMode, Seed: common.seed},
		Gateways:                gateways,
		Addresses:               addresses,
		LeaderElection:          cf.leaderElect,
		LeaderElectionNamespace: cf.leaderNamespace,
		Logger:                  log,
	}}
	if err := rt.Start(ctx, src); err != nil {
		return BadInput(err)
	}
	if err := rt.Run(ctx); err != nil {
		return Failed(err)
	}
	log.Info("stopped")
	return nil
}
