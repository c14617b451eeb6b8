package proxy

import (
	"net/http"
)

// AppProtocolH2C is the Service port appProtocol (the Gateway API's
// standard name) of backends that speak HTTP/2 without TLS.
const AppProtocolH2C = "kubernetes.io/h2c"

// backendTransport sends the requests of Service ports whose appProtocol is
// kubernetes.io/h2c over HTTP/2 with prior knowledge, and every other
// request with the default transport. WebSocket upgrades (appProtocol
// kubernetes.io/ws, or none) need nothing here: the reverse proxy switches
// protocols by itself on a 101 answer.
type backendTransport struct {
	def, h2c http.RoundTripper
}

var _ http.RoundTripper = backendTransport{}

func (t backendTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	rt := t.def
	if st != nil && st.backend != nil && st.backend.AppProtocol == AppProtocolH2C {
		rt = t.h2c
	}
	if st != nil && st.silence != nil {
		return st.silence.roundTrip(rt, r)
	}
	return rt.RoundTrip(r)
}

// newH2CTransport is NewTransport speaking only unencrypted HTTP/2.
func newH2CTransport() *http.Transport {
	t := NewTransport()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}

// ServerProtocols lets srv accept HTTP/1.1, HTTP/2 over TLS (when the
// listener's ALPN offers h2) and, on plain-text ports, HTTP/2 with prior
// knowledge (h2c), which gRPC-style clients and the Gateway API's h2c
// backend tests send.
func ServerProtocols(srv *http.Server) {
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
}
