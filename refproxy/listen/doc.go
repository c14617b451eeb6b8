// Package listen owns refproxy's listener layer: the sockets of the Gateway
// listener ports and the http.Servers on them. Ports runs one server per
// port of the routing tables applied to it, opening ports that appear
// before a table is swapped in and draining those that disappear after,
// terminating TLS with the table's certificates (chosen by SNI) on HTTPS
// ports and serving h2c on plain ones. Until its drain ends, a dropped port
// keeps serving from the table it was opened under
// (proxy.PortHandler.Retire), answering with Connection: close, rather
// than 404 from a table without it. Every server it starts has the same
// timeouts (NewServer), whoever builds the tables: file mode, controller
// mode or the embedded target all serve through it.
//
// ListenFunc decides where a gateway port binds; Listener binds every port
// on one address, with per-port overrides (ParsePortMapping reads them from
// the command line), and Merge lets one gateway port accept on several
// sockets.
package listen
