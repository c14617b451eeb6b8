// Package lb gives Services of type LoadBalancer in a kind cluster an
// address the host can reach, without MetalLB or any image: run on the
// host, it assigns each such Service (without a loadBalancerClass) a free
// IPv4 address of the kind docker network's subnet, from the top down,
// writes it to status.loadBalancer.ingress, and routes it to a node
// container (`ip route replace IP/32 via NODE`), where kube-proxy already
// forwards traffic for LoadBalancer ingress IPs to the Service's endpoints.
// The routes it added are removed when it stops.
//
// A test harness runs it beside the cluster (both suites of conformance do):
//
//	stop, err := lb.StartKind(clientset, clusterName, logger)
//	defer stop() // ends it and removes its routes
//
// or builds one from KindOptions and New, and Runs it until its context ends.
package lb
