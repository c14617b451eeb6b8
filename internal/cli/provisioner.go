package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/splitproof/splitproof/refproxy/provision"
	"github.com/splitproof/splitproof/refproxy/translate"
)

func provisionerCommand() Command {
	return Command{Name: "provisioner", Short: "give every Gateway of refproxy's class its own refproxy Deployment and Service", Run: runProvisioner}
}

const provisionerSynopsis = `provisioner --image IMAGE [flags]

Watches the cluster's GatewayClasses and Gateways. For every Gateway of a
GatewayClass naming refproxy's controller (` + translate.DefaultControllerName + `), except
those given with --skip-gateway, it keeps a Deployment running
` + "`splitproof proxy --controller --gateway NS/NAME`" + ` and a Service (LoadBalancer by
default) with one port per listener port, both in --namespace and named
gw-<namespace>-<name>-<hash>; the proxy writes that Gateway's status, with the
Service's address. Objects of Gateways that are gone are deleted. This
isolates Gateways from each other, as the Gateway API conformance suite
expects (conformance/install's Conformance profile runs it in the cluster).`

const provisionerExamples = `  # in a Pod (in-cluster configuration)
  splitproof provisioner --namespace agentgateway-system --image splitproof/splitproof:dev \
    --service-account refproxy --skip-gateway agentgateway-system/http
  # from a workstation, proxies with deterministic picks
  splitproof provisioner --kubeconfig ~/.kube/config --namespace refproxy-system \
    --image splitproof/splitproof:dev --proxy-arg=--pick-mode=smooth`

func runProvisioner(ctx context.Context, env *Env, args []string) error {
	fs := NewFlagSet(env, "provisioner", provisionerSynopsis, provisionerExamples)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; default: the in-cluster configuration")
	namespace := fs.String("namespace", env.Getenv("POD_NAMESPACE"), "`namespace` of the proxies' Deployments and Services (default $POD_NAMESPACE)")
	image := fs.String("image", "", "`image` the proxies run (`splitproof proxy`); required")
	pull := fs.String("image-pull-policy", string(corev1.PullIfNotPresent), "the proxies' imagePullPolicy: IfNotPresent, Never or Always")
	sa := fs.String("service-account", "", "ServiceAccount the proxies run as (it needs refproxy's RBAC); default: the namespace's default")
	svcType := fs.String("service-type", string(corev1.ServiceTypeLoadBalancer), "type of the proxies' Services: LoadBalancer, NodePort or ClusterIP")
	controllerName := fs.String("controller-name", translate.DefaultControllerName, "GatewayClass controllerName whose Gateways are provisioned")
	var skip, proxyArgs stringList
	fs.Var(&skip, "skip-gateway", "leave Gateway NAMESPACE/NAME alone (served by a proxy deployed otherwise); repeatable")
	fs.Var(&proxyArgs, "proxy-arg", "extra argument of every proxy, e.g. --proxy-arg=--pick-mode=smooth; repeatable")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return BadInput(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if *image == "" {
		return BadInput(errors.New("--image is required: the image whose entrypoint is splitproof"))
	}
	if *namespace == "" {
		return BadInput(errors.New("--namespace is required outside a Pod (no $POD_NAMESPACE)"))
	}
	switch corev1.PullPolicy(*pull) {
	case corev1.PullIfNotPresent, corev1.PullNever, corev1.PullAlways:
	default:
		return BadInput(fmt.Errorf("--image-pull-policy %q: expected IfNotPresent, Never or Always", *pull))
	}
	switch corev1.ServiceType(*svcType) {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort, corev1.ServiceTypeClusterIP:
	default:
		return BadInput(fmt.Errorf("--service-type %q: expected LoadBalancer, NodePort or ClusterIP", *svcType))
	}
	var skipped []types.NamespacedName
	for _, s := range skip {
		nn, err := parseNamespacedName("skip-gateway", s)
		if err != nil {
			return BadInput(err)
		}
		skipped = append(skipped, nn)
	}
	cf := controllerFlags{kubeconfig: *kubeconfig}
	cfg, err := cf.restConfig()
	if err != nil {
		return BadInput(err)
	}
	ctrllog.SetLogger(logr.FromSlogHandler(env.Logger.Handler()))
	p, err := provision.New(cfg, provision.Options{
		Config: provision.Config{
			Namespace: *namespace, Image: *image, PullPolicy: corev1.PullPolicy(*pull),
			ServiceAccount: *sa, ServiceType: corev1.ServiceType(*svcType), ProxyArgs: proxyArgs,
		},
		ControllerName: *controllerName,
		Skip:           skipped,
		Logger:         env.Logger,
	})
	if err != nil {
		return BadInput(err)
	}
	env.Logger.Info("provisioner starting", "api_server", cfg.Host, "namespace", *namespace, "image", *image, "skip", skip.String())
	if err := p.Start(ctx); err != nil {
		return Failed(err)
	}
	return nil
}
