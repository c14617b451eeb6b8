package apiservertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// Environment variables naming the directories that hold the binaries.
const (
	EnvKubeBinDir = "SPLITPROOF_KUBE_BIN_DIR" // kube-apiserver
	EnvEtcdBinDir = "SPLITPROOF_ETCD_BIN_DIR" // etcd
)

// Options configure Start.
type Options struct {
	// KubeBinDir and EtcdBinDir hold kube-apiserver and etcd; the
	// environment variables above when empty.
	KubeBinDir, EtcdBinDir string
	// CRDs are CustomResourceDefinition files or directories of them
	// (*.yaml); documents of other kinds are skipped.
	CRDs []string
	// StartTimeout bounds start-up, CRDs included; 2 minutes when zero (a
	// cold kube-apiserver on a loaded machine is slow).
	StartTimeout time.Duration
}

// Server is a running etcd and kube-apiserver.
type Server struct {
	// Config reaches the API server as a member of system:masters.
	Config *rest.Config
	// Dir holds data, certificates and the processes' logs.
	Dir string

	procs []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start runs etcd and kube-apiserver under a new temporary directory and
// installs opts.CRDs. On error everything started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	if opts.KubeBinDir == "" {
		opts.KubeBinDir = os.Getenv(EnvKubeBinDir)
	}
	if opts.EtcdBinDir == "" {
		opts.EtcdBinDir = os.Getenv(EnvEtcdBinDir)
	}
	if opts.KubeBinDir == "" || opts.EtcdBinDir == "" {
		return nil, fmt.Errorf("%s and %s must name the directories of kube-apiserver and etcd: run the tests with ci/integration.sh, which builds them", EnvKubeBinDir, EnvEtcdBinDir)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "apiservertest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	etcdURL, err := s.startEtcd(ctx, filepath.Join(opts.EtcdBinDir, "etcd"))
	if err != nil {
		return nil, err
	}
	if err := s.startAPIServer(ctx, filepath.Join(opts.KubeBinDir, "kube-apiserver"), etcdURL); err != nil {
		return nil, err
	}
	if err := InstallCRDs(ctx, s.Config, opts.CRDs...); err != nil {
		return nil, err
	}
	return s, nil
}

// MustStart starts a server for t and stops it when t ends.
func MustStart(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start kube-apiserver: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop kube-apiserver: %v", err)
		}
	})
	return s
}

// Stop ends the processes (kube-apiserver first) and removes Dir.
func (s *Server) Stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			errs = append(errs, fmt.Errorf("%s did not stop on SIGTERM within 10s; killed", p.name))
		}
	}
	s.procs = nil
	if s.Dir != "" {
		errs = append(errs, os.RemoveAll(s.Dir))
	}
	return errors.Join(errs...)
}

func (s *Server) run(name, bin string, args ...string) (*proc, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s binary: %w", name, err)
	}
	logPath := filepath.Join(s.Dir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	bindLifetime(cmd)
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = lf.Close()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	return p, nil
}

// failure describes a process that did not come up, with the end of its log.
func (p *proc) failure(what string, err error) error {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v) before %s; end of %s:\n%s", p.name, p.err, what, p.log, b)
	default:
		return fmt.Errorf("%s: %s: %w; end of %s:\n%s", p.name, what, err, p.log, b)
	}
}

func (s *Server) startEtcd(ctx context.Context, bin string) (string, error) {
	client, peer, err := freePorts(2)
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := s.run("etcd", bin,
		"--name=default",
		"--data-dir="+filepath.Join(s.Dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// A test's data need not survive a crash; fsync is the slow part.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return "", err
	}
	err = poll(ctx, p, func() error {
		res, err := http.Get(clientURL + "/health")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("/health answered %d", res.StatusCode)
		}
		return nil
	})
	if err != nil {
		return "", p.failure("becoming healthy", err)
	}
	return clientURL, nil
}

func (s *Server) startAPIServer(ctx context.Context, bin, etcdURL string) error {
	pki, err := writePKI(s.Dir)
	if err != nil {
		return err
	}
	ports, _, err := freePorts(1)
	if err != nil {
		return err
	}
	port := strconv.Itoa(ports)
	host := "https://127.0.0.1:" + port
	p, err := s.run("kube-apiserver", bin,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+port,
		"--etcd-servers="+etcdURL,
		"--cert-dir="+filepath.Join(s.Dir, "apiserver-certs"),
		"--tls-cert-file="+pki.servingCert,
		"--tls-private-key-file="+pki.servingKey,
		"--token-auth-file="+pki.tokens,
		"--authorization-mode=AlwaysAllow",
		"--service-account-issuer="+host,
		"--service-account-key-file="+pki.saPub,
		"--service-account-signing-key-file="+pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		// No controller-manager runs: nothing would create the tokens the
		// ServiceAccount admission plugin waits for.
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
	)
	if err != nil {
		return err
	}
	s.Config = &rest.Config{
		Host:            host,
		BearerToken:     pki.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pki.caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	err = poll(ctx, p, func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+pki.token)
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz answered %d", res.StatusCode)
		}
		return nil
	})
	if err != nil {
		return p.failure("becoming ready", err)
	}
	return nil
}

// poll calls check every 100ms until it succeeds, p exits or ctx ends.
func poll(ctx context.Context, p *proc, check func() error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return err
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// freePorts finds n free loopback ports (returned as the first two values;
// the second is 0 when n is 1). The ports are released before the server
// binds them; on this single test machine the race is acceptable.
func freePorts(n int) (int, int, error) {
	var ports [2]int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		lns = append(lns, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
}

type pkiFiles struct {
	caPEM                   []byte
	servingCert, servingKey string
	saKey, saPub            string
	tokens, token           string
}

// writePKI generates a CA, a serving certificate for 127.0.0.1 and
// localhost signed by it, a service-account signing key and an admin token.
func writePKI(dir string) (*pkiFiles, error) {
	dir = filepath.Join(dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "apiservertest-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	f := &pkiFiles{
		caPEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		servingCert: filepath.Join(dir, "serving.crt"),
		servingKey:  filepath.Join(dir, "serving.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
		tokens:      filepath.Join(dir, "tokens.csv"),
		token:       hex.EncodeToString(tok),
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return nil, err
	}
	saKeyDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		f.servingCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		f.servingKey:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}),
		f.saKey:       pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saKeyDER}),
		f.saPub:       pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
		// token,user,uid,"group1,group2"
		f.tokens: fmt.Appendf(nil, "%s,admin,admin,\"system:masters\"\n", f.token),
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return f, nil
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs creates the CustomResourceDefinitions in paths (files, or
// directories whose *.yaml files are read) and waits until each is
// established. Documents of other kinds are skipped.
func InstallCRDs(ctx context.Context, cfg *rest.Config, paths ...string) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var names []string
	for _, path := range paths {
		files := []string{path}
		if st, err := os.Stat(path); err != nil {
			return fmt.Errorf("CRDs: %w", err)
		} else if st.IsDir() {
			files, err = filepath.Glob(filepath.Join(path, "*.yaml"))
			if err != nil {
				return err
			}
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("CRDs: %w", err)
			}
			for i, doc := range bytes.Split(b, []byte("\n---")) {
				u := &unstructured.Unstructured{}
				if err := yaml.Unmarshal(doc, &u.Object); err != nil {
					return fmt.Errorf("%s: document %d: %w", file, i+1, err)
				}
				if u.GetKind() != "CustomResourceDefinition" {
					continue
				}
				if _, err := dyn.Resource(crdGVR).Create(ctx, u, metav1.CreateOptions{}); err != nil {
					return fmt.Errorf("create CRD %s from %s: %w", u.GetName(), file, err)
				}
				names = append(names, u.GetName())
			}
		}
	}
	for _, name := range names {
		err := wait(ctx, func() (bool, error) {
			u, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", name, err)
		}
	}
	return nil
}

func wait(ctx context.Context, done func() (bool, error)) error {
	for {
		ok, err := done()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// GatewayAPICRDs returns the directory of the Gateway API standard-channel
// CRDs of the module version in go.mod, from the module cache.
func GatewayAPICRDs() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return "", fmt.Errorf("locate sigs.k8s.io/gateway-api in the module cache: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard"), nil
}
