package filemode_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// MustSelfSigned returns a PEM certificate and key for host.
func MustSelfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestHTTPSListener serves two HTTPS listeners on one port with their own
// certificates, chosen by SNI, and routes by Host behind them.
func TestHTTPSListener(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	certA, keyA := MustSelfSigned(t, "a.example")
	certB, keyB := MustSelfSigned(t, "b.example")
	enc := base64.StdEncoding.EncodeToString
	cfg := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: any
  listeners:
  - {name: a, port: 443, protocol: HTTPS, hostname: a.example, tls: {certificateRefs: [{name: cert-a}]}}
  - {name: b, port: 443, protocol: HTTPS, hostname: b.example, tls: {certificateRefs: [{name: cert-b}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: cert-a, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}
---
apiVersion: v1
kind: Secret
metadata: {name: cert-b, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ra, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: a}]
  rules: [{backendRefs: [{name: a, port: 5000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: rb, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: b}]
  rules: [{backendRefs: [{name: b, port: 5000}]}]
`, enc(certA), enc(keyA), enc(certB), enc(keyB))
	for _, be := range []backend{a, b} {
		cfg += fmt.Sprintf(serviceYAML, be.name, be.port)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	MustWrite(t, path, cfg)
	r, _ := MustRunner(t, path, -1)
	addr := r.Addr(443).String()

	for _, tc := range []struct {
		name       string
		sni, host  string
		cert       []byte
		http2      bool
		wantStatus int
		wantBody   string
	}{
		{"a.example", "a.example", "a.example", certA, false, 200, "a"},
		{"b.example", "b.example", "b.example", certB, false, 200, "b"},
		{"a.example over HTTP/2", "a.example", "a.example", certA, true, 200, "a"},
		// A connection set up for a.example (and its certificate) carrying
		// a request for b.example, as HTTP/2 connection reuse does.
		{"misdirected", "a.example", "b.example", certA, true, http.StatusMisdirectedRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(tc.cert)
			c := &http.Client{Transport: &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: tc.sni},
				ForceAttemptHTTP2: tc.http2,
			}}
			defer c.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/", nil)
			req.Host = tc.host
			res, err := c.Do(req)
			if err != nil {
				t.Fatalf("GET over TLS with SNI %s: %v", tc.sni, err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus || (tc.wantBody != "" && string(body) != tc.wantBody) {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if want := map[bool]int{false: 1, true: 2}[tc.http2]; res.ProtoMajor != want {
				t.Errorf("answered in %s, want HTTP/%d", res.Proto, want)
			}
		})
	}
	t.Run("plain HTTP is not served", func(t *testing.T) {
		// net/http answers a plain request on a TLS connection with 400.
		res, err := http.Get("http://" + addr + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("plain HTTP request to an HTTPS port: %d, want 400 or a failure", res.StatusCode)
			}
		}
	})
}
