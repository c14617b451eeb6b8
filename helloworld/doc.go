// Package helloworld owns the sample app that the traffic-splitting
// documentation deploys (istio's examples-helloworld): GET /hello answers
// with the app's version and instance, so a client can count which backend
// served each request, and GET /health answers 200 for readiness probes.
//
// Its TCP sibling, the tcp-echo server the same pods run, is in tcpecho.
package helloworld
