package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Labels and annotations on the objects the provisioner owns.
const (
	// LabelManagedBy (app.kubernetes.io/managed-by) = ManagedBy marks them.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "splitproof-provisioner"
	// LabelGateway carries ObjectName: the Deployment's selector and the
	// Service's.
	LabelGateway = "splitproof.dev/gateway-id"
	// AnnotationGateway names the Gateway (NAMESPACE/NAME) an object serves.
	AnnotationGateway = "splitproof.dev/gateway"
	// AnnotationSpecHash is a hash of the spec the provisioner last wrote:
	// a different desired hash means the object is updated.
	AnnotationSpecHash = "splitproof.dev/spec-hash"
)

// AdminPort is the port of the deployed proxies' admin listener (probes).
const AdminPort = 9901

// ObjectName is the name of the Deployment and Service of Gateway gw: a DNS
// label (at most 63 characters, starting with a letter) made of "gw-", the
// namespace and name with characters outside [a-z0-9-] replaced by '-',
// shortened when needed, and always an 8-hex-digit hash of NAMESPACE/NAME,
// so that "a-b"/"c" and "a"/"b-c" never collide.
func ObjectName(gw types.NamespacedName) string {
	sum := sha256.Sum256([]byte(gw.Namespace + "/" + gw.Name))
	hash := hex.EncodeToString(sum[:4])
	var b strings.Builder
	for _, r := range strings.ToLower(gw.Namespace + "-" + gw.Name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	body := b.String()
	const max = 63 - len("gw-") - 1 - 8
	if len(body) > max {
		body = body[:max]
	}
	body = strings.Trim(body, "-")
	if body == "" {
		return "gw-" + hash
	}
	return "gw-" + body + "-" + hash
}

// Config is what the provisioned objects are built from.
type Config struct {
	// Namespace holds the Deployments and Services.
	Namespace string
	// Image runs `splitproof proxy`; PullPolicy defaults to IfNotPresent.
	Image      string
	PullPolicy corev1.PullPolicy
	// ServiceAccount the proxies run as (it needs refproxy's RBAC).
	ServiceAccount string
	// ServiceType of the Services; LoadBalancer when empty.
	ServiceType corev1.ServiceType
	// ProxyArgs are appended to the proxy's arguments (--pick-mode=smooth…).
	ProxyArgs []string
}

// Desired returns the Deployment and Service that serve gw.
func (c Config) Desired(gw *gatewayv1.Gateway) (*appsv1.Deployment, *corev1.Service, error) {
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	id := ObjectName(key)
	sel := map[string]string{LabelGateway: id}
	labels := map[string]string{
		LabelGateway:             id,
		LabelManagedBy:           ManagedBy,
		"app.kubernetes.io/name": "refproxy",
	}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:        id,
			Namespace:   c.Namespace,
			Labels:      clone(labels),
			Annotations: map[string]string{AnnotationGateway: key.String()},
		}
	}

	pullPolicy := c.PullPolicy
	if pullPolicy == "" {
		pullPolicy = corev1.PullIfNotPresent
	}
	args := append([]string{
		"proxy",
		"--controller",
		"--listen-address=0.0.0.0",
		fmt.Sprintf("--admin=0.0.0.0:%d", AdminPort),
		"--gateway=" + key.String(),
		"--address-service=" + c.Namespace + "/" + id,
	}, c.ProxyArgs...)
	var containerPorts []corev1.ContainerPort
	var svcPorts []corev1.ServicePort
	for _, p := range listenerPorts(gw) {
		containerPorts = append(containerPorts, corev1.ContainerPort{Name: portName(p), ContainerPort: p, Protocol: corev1.ProtocolTCP})
		svcPorts = append(svcPorts, corev1.ServicePort{Name: portName(p), Port: p, TargetPort: intstr.FromInt32(p), Protocol: corev1.ProtocolTCP})
	}
	if len(svcPorts) == 0 {
		return nil, nil, fmt.Errorf("Gateway %s has no listener with a port", key)
	}
	containerPorts = append(containerPorts, corev1.ContainerPort{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP})

	replicas := int32(1)
	grace := int64(5) // the proxy drains in-flight requests; tests delete Gateways often
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: clone(sel)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: clone(labels), Annotations: map[string]string{AnnotationGateway: key.String()}},
				Spec: corev1.PodSpec{
					ServiceAccountName:            c.ServiceAccount,
					TerminationGracePeriodSeconds: &grace,
					// Hundreds of Services in the namespace would otherwise
					// become environment variables of every proxy.
					EnableServiceLinks: new(false),
					SecurityContext: &corev1.PodSecurityContext{
						// Listener ports below 1024 without root or
						// capabilities: a namespaced, safe sysctl.
						Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
					},
					Containers: []corev1.Container{{
						Name:            "refproxy",
						Image:           c.Image,
						ImagePullPolicy: pullPolicy,
						Args:            args,
						Ports:           containerPorts,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("admin")}},
							PeriodSeconds: 2,
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("admin")}},
							PeriodSeconds: 10,
						},
					}},
				},
			},
		},
	}
	svcType := c.ServiceType
	if svcType == "" {
		svcType = corev1.ServiceTypeLoadBalancer
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Type:     svcType,
			Selector: clone(sel),
			Ports:    svcPorts,
		},
	}
	if err := stamp(deploy, deploy.Spec); err != nil {
		return nil, nil, err
	}
	if err := stamp(svc, svc.Spec); err != nil {
		return nil, nil, err
	}
	return deploy, svc, nil
}

// listenerPorts are the distinct listener ports of gw, sorted.
func listenerPorts(gw *gatewayv1.Gateway) []int32 {
	var out []int32
	for _, l := range gw.Spec.Listeners {
		if p := int32(l.Port); p > 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func portName(p int32) string { return fmt.Sprintf("port-%d", p) }

// stamp records the hash of spec in obj's annotations.
func stamp(obj metav1.Object, spec any) error {
	h, err := specHash(spec)
	if err != nil {
		return err
	}
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[AnnotationSpecHash] = h
	obj.SetAnnotations(a)
	return nil
}

func specHash(spec any) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("hash spec: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
