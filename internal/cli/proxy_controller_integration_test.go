//go:build integration

package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/splitproof/splitproof/internal/kubetest"
	"github.com/splitproof/splitproof/refproxy/controller"
	"github.com/splitproof/splitproof/refproxy/translate"
)

var (
	gatewayListening = regexp.MustCompile(`msg=listening gateway_port=80 address=(127\.0\.0\.1:\d+)`)
	adminListening   = regexp.MustCompile(`msg="admin listening" address=(127\.0\.0\.1:\d+)`)
)

// TestProxyControllerMode runs `splitproof proxy --kubeconfig` against a real
// API server: the Gateway listener and the admin endpoint come up, /readyz
// turns ready, a route created afterwards is served (a redirect, so that no
// upstream is needed), the Gateway's status carries the address, and
// cancelling the context drains and returns cleanly.
func TestProxyControllerMode(t *testing.T) {
	plane := kubetest.MustStart(t, filepath.Join("..", "..", "conformance", "install", "crds"))
	// envtest's kubeconfig: the admin user it provisioned, with a client
	// certificate, as `splitproof proxy --kubeconfig` reads it from disk.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, plane.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(plane.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all := gatewayv1.NamespacesFromAll
	for _, obj := range []client.Object{
		&gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "splitproof"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: translate.DefaultControllerName}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "agentgateway-system"}},
		&gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: "agentgateway-system", Name: "http"},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: "splitproof", Listeners: []gatewayv1.Listener{{
				Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}},
			}}},
		},
	} {
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	logs := &lockedBuffer{}
	env := &Env{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, env, []string{"proxy", "--kubeconfig", kubeconfig, "--gateway", "agentgateway-system/http",
			"--gateway-address", "127.0.0.1", "--port-map", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", "--drain-timeout", "2s"})
	}()
	stopped := false
	stop := func() error {
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("proxy did not stop:\n%s", logs)
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	var gwAddr, adminAddr string
	poll(t, "the listeners", logs, func() bool {
		if m := gatewayListening.FindStringSubmatch(logs.String()); m != nil {
			gwAddr = m[1]
		}
		if m := adminListening.FindStringSubmatch(logs.String()); m != nil {
			adminAddr = m[1]
		}
		return gwAddr != "" && adminAddr != ""
	})
	poll(t, "/readyz", logs, func() bool {
		res, err := http.Get("http://" + adminAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	gwNS := gatewayv1.Namespace("agentgateway-system")
	code := 301
	host := gatewayv1.PreciseHostname("elsewhere.example")
	if err := kube.Create(ctx, &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "agentgateway-system", Name: "redirect"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "http", Namespace: &gwNS}}},
			Hostnames:       []gatewayv1.Hostname{"traffic.split.example"},
			Rules: []gatewayv1.HTTPRouteRule{{Filters: []gatewayv1.HTTPRouteFilter{{
				Type:            gatewayv1.HTTPRouteFilterRequestRedirect,
				RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{Hostname: &host, StatusCode: &code},
			}}}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	poll(t, "the route to be served", logs, func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+gwAddr+"/hello", nil)
		req.Host = "traffic.split.example"
		res, err := noRedirect.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 301 && res.Header.Get("Location") == "http://elsewhere.example/hello"
	})
	poll(t, "the Gateway's status", logs, func() bool {
		gw := &gatewayv1.Gateway{}
		if err := kube.Get(ctx, types.NamespacedName{Namespace: "agentgateway-system", Name: "http"}, gw); err != nil {
			return false
		}
		p := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
		return p != nil && p.Status == metav1.ConditionTrue && len(gw.Status.Addresses) == 1 && gw.Status.Addresses[0].Value == "127.0.0.1" &&
			len(gw.Status.Listeners) == 1 && gw.Status.Listeners[0].AttachedRoutes == 1
	})
	if err := stop(); err != nil {
		t.Errorf("proxy exited with %v\n%s", err, logs)
	}
}

// poll waits up to 30 seconds for cond, showing the logs on failure.
func poll(t *testing.T, what string, logs *lockedBuffer, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, logs)
		}
	}
}
