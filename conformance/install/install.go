package install

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

//go:embed crds/*.yaml manifests/*.yaml proxy/*.yaml
var files embed.FS

// GatewayClassName is the GatewayClass the manifests create, and
// ControllerName its controllerName (the one refproxy serves).
const (
	GatewayClassName = "splitproof"
	ControllerName   = "splitproof.dev/refproxy"
	// Namespace holds the Gateways, the proxy and its Service.
	Namespace = "agentgateway-system"
	// ProxyDeployment and ProxyService name the refproxy Deployment and its
	// LoadBalancer Service.
	ProxyDeployment = "agentgateway-proxy"
	ProxyService    = "http"
	// ProvisionerDeployment names the Conformance profile's provisioner.
	ProvisionerDeployment = "refproxy-provisioner"
)

// Profile chooses how the refproxy Deployment is configured.
type Profile int

const (
	// Doc serves the documentation's Gateways http and agentgateway-proxy
	// only, on port 80.
	Doc Profile = iota
	// Conformance is Doc plus the provisioner, which gives every other
	// Gateway of the class (the conformance suite creates its own) a
	// refproxy Deployment and LoadBalancer Service of its own.
	Conformance
)

func (p Profile) String() string {
	switch p {
	case Doc:
		return "doc"
	case Conformance:
		return "conformance"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// File is one embedded manifest file.
type File struct {
	// Name is the path inside the package, e.g. "manifests/10-rbac.yaml".
	Name string
	Data []byte
}

// CRDs returns the CustomResourceDefinition files (and the Gateway API's
// ValidatingAdmissionPolicy that ships with them), sorted by name.
func CRDs() []File {
	return mustDir("crds")
}

// Manifests returns everything to apply for p, in order: CRDs, then the
// namespace, RBAC, GatewayClass and Gateways, then the proxy.
func Manifests(p Profile) ([]File, error) {
	var proxies []string
	switch p {
	case Doc:
		proxies = []string{"proxy/doc.yaml"}
	case Conformance:
		proxies = []string{"proxy/doc.yaml", "proxy/provisioner.yaml"}
	default:
		return nil, fmt.Errorf("unknown install profile %v", p)
	}
	out := append(CRDs(), mustDir("manifests")...)
	for _, name := range proxies {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: name, Data: b})
	}
	return out, nil
}

func mustDir(dir string) []File {
	ents, err := fs.ReadDir(files, dir)
	if err != nil {
		panic(fmt.Sprintf("embedded directory %s: %v", dir, err)) // the embed pattern guarantees it
	}
	var out []File
	for _, e := range ents {
		name := path.Join(dir, e.Name())
		b, err := files.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("embedded file %s: %v", name, err))
		}
		out = append(out, File{Name: name, Data: b})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Objects decodes the YAML documents of files, in order, skipping empty
// ones. Errors name the file and the document's index in it.
func Objects(in []File) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	var errs []error
	for _, f := range in {
		rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(f.Data)))
		for i := 0; ; i++ {
			doc, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: document %d: %w", f.Name, i, err))
				break
			}
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: document %d: %w", f.Name, i, err))
				continue
			}
			if s := strings.TrimSpace(string(js)); s == "null" || s == "{}" {
				continue // only comments or separators
			}
			// UnmarshalJSON keeps integers as int64, as the API machinery expects.
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(js); err != nil {
				errs = append(errs, fmt.Errorf("%s: document %d: %w", f.Name, i, err))
				continue
			}
			if u.GetAPIVersion() == "" || u.GetName() == "" {
				errs = append(errs, fmt.Errorf("%s: document %d: apiVersion, kind and metadata.name are required", f.Name, i))
				continue
			}
			out = append(out, u)
		}
	}
	return out, errors.Join(errs...)
}
