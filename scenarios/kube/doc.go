// Package kube owns the replayer's Kubernetes target: it reaches a gateway
// running in a cluster the way the documentation's "Before you begin"
// section does, and hands package replay the resulting Endpoint.
//
// The page reaches the gateway two ways, and every snippet uses one of them:
//
//	export INGRESS_GW_ADDRESS=$(kubectl get svc -n agentgateway-system http \
//	  -o jsonpath="{.status.loadBalancer.ingress[0]['hostname','ip']}")
//	kubectl port-forward deployment/agentgateway-proxy -n agentgateway-system 8080:80
//
// Connect evaluates the same JSONPath on the same Service (client-go's
// jsonpath, missing keys allowed, as kubectl does) for INGRESS_GW_ADDRESS,
// and opens the port-forward with client-go to a Ready pod of the same
// Deployment on a free 127.0.0.1 port, to which the snippets' localhost:8080
// is mapped. Nothing here applies manifests: the cluster is set up by
// whoever runs the replay.
package kube
