// Package provision owns refproxy's per-Gateway deployment: a controller
// that gives every Gateway of a GatewayClass naming refproxy's controller
// its own refproxy, so that Gateways are isolated from each other the way
// the Gateway API conformance suite expects (each Gateway its own address,
// its own listeners, no routes of another Gateway on the same port).
//
// For each such Gateway it keeps, in one namespace (the provisioner's own,
// where the ServiceAccount and its RBAC already are):
//
//   - a Deployment running `splitproof proxy --controller --gateway NS/NAME
//     --address-service NAMESPACE/ID`: a full controller-mode refproxy that
//     serves and writes status for that one Gateway only;
//   - a Service (LoadBalancer by default) selecting it, with one port per
//     distinct listener port, whose address the proxy writes to the
//     Gateway's status.addresses.
//
// Both are named by ObjectName (a DNS label from the Gateway's namespace and
// name plus a hash, so names never collide or overflow) and labelled so the
// provisioner finds them again; an object whose Gateway is gone is deleted.
// Like the controller, there is a single reconcile key: every run lists the
// Gateways and the owned objects and converges the difference, so a missed
// event or a restart loses nothing.
//
// The provisioner writes no Gateway status: the proxy it deploys does.
package provision
