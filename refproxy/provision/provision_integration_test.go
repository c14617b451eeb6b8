//go:build integration

package provision_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/internal/kubetest"
	"github.com/splitproof/splitproof/internal/poll"
	"github.com/splitproof/splitproof/refproxy/provision"
	"github.com/splitproof/splitproof/refproxy/translate"
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// TestProvisioner runs the provisioner against a real API server: one
// Deployment and Service per Gateway of its class, none for other classes
// or skipped Gateways, the Service following listener changes, a deleted
// object recreated, and both removed with their Gateway.
func TestProvisioner(t *testing.T) {
	env := kubetest.MustStart(t, filepath.Join("..", "..", "conformance", "install", "crds"))
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	kube, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{"proxies", "apps"} {
		must(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	must(kube.Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "splitproof"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: translate.DefaultControllerName}}))
	must(kube.Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: "example.com/other"}}))
	newGateway := func(name, class string, ports ...int32) *gatewayv1.Gateway {
		gw := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Spec: gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class)}}
		for _, p := range ports {
			gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Name: gatewayv1.SectionName(fmt.Sprintf("p%d", p)), Port: gatewayv1.PortNumber(p), Protocol: gatewayv1.HTTPProtocolType})
		}
		must(kube.Create(ctx, gw))
		return gw
	}
	served := newGateway("served", "splitproof", 80)
	newGateway("foreign", "other", 80)
	newGateway("static", "splitproof", 80)

	p, err := provision.New(env.Config, provision.Options{
		Config:   provision.Config{Namespace: "proxies", Image: "splitproof/splitproof:dev", ServiceAccount: "refproxy"},
		Skip:     []types.NamespacedName{{Namespace: "apps", Name: "static"}},
		Debounce: 20 * time.Millisecond,
	})
	must(err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Start(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("provisioner: %v", err)
		}
	}()

	id := provision.ObjectName(types.NamespacedName{Namespace: "apps", Name: "served"})
	owned := func() (deploys, services []string) {
		var dl appsv1.DeploymentList
		var sl corev1.ServiceList
		must(kube.List(ctx, &dl, client.InNamespace("proxies")))
		must(kube.List(ctx, &sl, client.InNamespace("proxies")))
		for _, d := range dl.Items {
			deploys = append(deploys, d.Name)
		}
		for _, s := range sl.Items {
			services = append(services, s.Name)
		}
		return deploys, services
	}
	eventually := func(what string, cond func() (bool, string)) {
		t.Helper()
		// cond runs on the test's goroutine, so its must may call t.Fatal.
		poll.Must(t, what, 50*time.Millisecond, 30*time.Second, cond)
	}
	onlyServed := func() (bool, string) {
		d, s := owned()
		return slices.Equal(d, []string{id}) && slices.Equal(s, []string{id}), fmt.Sprintf("Deployments %v, Services %v", d, s)
	}
	eventually("objects for the served Gateway only", onlyServed)

	// A listener added on another port reaches the Service.
	must(kube.Get(ctx, client.ObjectKeyFromObject(served), served))
	served.Spec.Listeners = append(served.Spec.Listeners, gatewayv1.Listener{Name: "p8080", Port: 8080, Protocol: gatewayv1.HTTPProtocolType})
	must(kube.Update(ctx, served))
	eventually("Service ports follow the listeners", func() (bool, string) {
		var s corev1.Service
		must(kube.Get(ctx, types.NamespacedName{Namespace: "proxies", Name: id}, &s))
		var ports []int32
		for _, sp := range s.Spec.Ports {
			ports = append(ports, sp.Port)
		}
		return slices.Equal(ports, []int32{80, 8080}), fmt.Sprintf("ports %v", ports)
	})

	// Deleted behind its back, the Service comes back.
	must(kube.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "proxies", Name: id}}))
	eventually("deleted Service recreated", onlyServed)

	// Gone with the Gateway.
	must(kube.Delete(ctx, served))
	eventually("objects removed with the Gateway", func() (bool, string) {
		d, s := owned()
		return len(d) == 0 && len(s) == 0, fmt.Sprintf("Deployments %v, Services %v", d, s)
	})
	var d appsv1.Deployment
	if err := kube.Get(ctx, types.NamespacedName{Namespace: "proxies", Name: id}, &d); !apierrors.IsNotFound(err) {
		t.Errorf("Deployment after its Gateway was deleted: err = %v", err)
	}
	if !strings.HasPrefix(id, "gw-apps-served-") {
		t.Errorf("unexpected object name %q", id)
	}
}
