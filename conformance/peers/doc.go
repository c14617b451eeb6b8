// Package peers runs the doc's Example 1 through gateways this project did
// not write — nginx, HAProxy and Caddy — as test peers of refproxy. For each
// gateway and load-balancing algorithm it renders the gateway's own
// configuration of the doc's traffic-split HTTPRoute (host
// traffic.split.example, with or without a port; PathPrefix /; helloworld
// v1/v2/v3 at chosen weights) from a template in testdata/, starts the
// gateway as a child process on a loopback port and stops it by its PID.
//
// The package holds what does not need a test: the templates and their
// data ([Config], [Render]), the catalogue of peers ([Peers]), starting and
// waiting for a child process ([Start], [Process.WaitListening]) and the
// results table ([WriteTable]). The replays themselves run in the tests
// (build tag integration), through the splitproof CLI's `replay --gateway`:
// a 10/10/80 gateway must PASS and a 20/20/60 one FAIL naming v1, v2 and v3.
//
// The peers differ in how they pick: nginx's default and HAProxy's roundrobin are
// deterministic weighted round robin, nginx random, nginx split_clients on
// $request_id and HAProxy random are random per request, and Caddy's
// weighted_round_robin sends blocks of `weight` consecutive requests to
// each backend.
package peers
