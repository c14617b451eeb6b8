// Package lb gives Services of type LoadBalancer in a kind cluster an
// address the host can reach, without MetalLB or any image: run on the
// host, it assigns each such Service (without a loadBalancerClass) a free
// IPv4 address of the kind docker network's subnet, from the top down,
// writes it to status.loadBalancer.ingress, and routes it to a node
// container (`ip route replace IP/32 via NODE`), where kube-proxy already
// forwards traffic for LoadBalancer ingress IPs to the Service's endpoints.
// The routes it added are removed when it stops.
//
// A test harness runs it beside the cluster:
//
//	opts, err := lb.KindOptions(ctx, "kind", clusterName)
//	opts.Client, opts.Logger = clientset, logger
//	opts.Router = lb.IPRoute{Command: []string{"sudo", "-n"}} // unless root
//	c, err := lb.New(opts)
//	go c.Run(ctx) // until ctx ends; then the routes are gone
package lb
