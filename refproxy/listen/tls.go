package listen

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/splitproof/splitproof/refproxy/proxy"
	"github.com/splitproof/splitproof/refproxy/route"
)

// protoListener terminates TLS on the connections of a port that the current
// table declares HTTPS, and passes the others through as plain HTTP. Deciding
// per connection, from the table current at accept time, lets a reload turn
// a port from HTTP to HTTPS (or rotate its certificates) without reopening
// the socket.
type protoListener struct {
	net.Listener
	port  int32
	proxy *proxy.Proxy
	tls   *tls.Config
}

var _ net.Listener = (*protoListener)(nil)

func newProtoListener(ln net.Listener, port int32, p *proxy.Proxy, certs *certCache) *protoListener {
	l := &protoListener{Listener: ln, port: port, proxy: p}
	l.tls = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// http.Server answers h2 on the *tls.Conn this listener returns
		// (proxy.ServerProtocols enables it); HTTP/2 clients then reuse a
		// connection across hostnames, which the proxy answers with 421
		// when a request belongs to another listener than the SNI's.
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			pt := p.Table().Port(port)
			if pt == nil || len(pt.TLS) == 0 {
				return nil, fmt.Errorf("gateway port %d has no certificate", port)
			}
			return certs.get(pickCertificate(pt.TLS, hello.ServerName))
		},
	}
	return l
}

func (l *protoListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if t := l.proxy.Table(); t != nil {
		if pt := t.Port(l.port); pt != nil && pt.Protocol == "HTTPS" {
			return tls.Server(c, l.tls), nil
		}
	}
	return c, nil
}

// pickCertificate chooses the certificate for an SNI name: the listener with
// that exact hostname, else the longest wildcard hostname that matches it,
// else a listener without hostname, else the first (clients that send no
// SNI, such as those dialling an IP address).
func pickCertificate(certs []route.Certificate, sni string) *route.Certificate {
	sni = strings.ToLower(strings.TrimSuffix(sni, "."))
	var wildcard, anyHost *route.Certificate
	for i := range certs {
		c := &certs[i]
		switch {
		case c.Hostname == "":
			if anyHost == nil {
				anyHost = c
			}
		case c.Hostname == sni:
			return c
		case strings.HasPrefix(c.Hostname, "*.") && strings.HasSuffix(sni, c.Hostname[1:]):
			if wildcard == nil || len(c.Hostname) > len(wildcard.Hostname) {
				wildcard = c
			}
		}
	}
	switch {
	case wildcard != nil:
		return wildcard
	case anyHost != nil:
		return anyHost
	default:
		return &certs[0]
	}
}

// certCache keeps parsed key pairs by content, so that a handshake does not
// parse PEM and a reload does not invalidate unchanged certificates.
type certCache struct {
	mu    sync.Mutex
	pairs map[[sha256.Size]byte]*tls.Certificate
}

// maxCachedCerts bounds the cache; rotated-out pairs are dropped by clearing
// it when it fills, which costs one parse per certificate in use.
const maxCachedCerts = 256

func (cc *certCache) get(c *route.Certificate) (*tls.Certificate, error) {
	h := sha256.New()
	h.Write(c.CertPEM)
	h.Write([]byte{0})
	h.Write([]byte(c.KeyPEM))
	var key [sha256.Size]byte
	h.Sum(key[:0])
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if kp, ok := cc.pairs[key]; ok {
		return kp, nil
	}
	kp, err := tls.X509KeyPair(c.CertPEM, []byte(c.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("certificate of Secret %s: %w", c.Ref, err)
	}
	if cc.pairs == nil || len(cc.pairs) >= maxCachedCerts {
		cc.pairs = map[[sha256.Size]byte]*tls.Certificate{}
	}
	cc.pairs[key] = &kp
	return &kp, nil
}
