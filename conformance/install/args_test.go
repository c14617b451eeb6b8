package install_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/splitproof/splitproof/conformance/install"
	"github.com/splitproof/splitproof/internal/cli"
)

// TestProxyArgsParse runs the Deployment's container args through the real
// CLI with --help appended: every flag before it must be defined and its
// value accepted (an unknown flag or a bad value is bad input, exit 2),
// and nothing is served.
func TestProxyArgsParse(t *testing.T) {
	for _, p := range []install.Profile{install.Doc, install.Conformance} {
		t.Run(p.String(), func(t *testing.T) {
			dep := install.MustFind(t, install.MustObjects(t, p), "Deployment", install.Namespace, install.ProxyDeployment)
			cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
			args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
			if len(args) == 0 {
				t.Fatal("no args")
			}
			var out, errOut bytes.Buffer
			env := &cli.Env{Stdout: &out, Stderr: &errOut}
			err := cli.Run(context.Background(), env, append(args, "--help"))
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("splitproof %v --help: %v\n%s", args, err, errOut.String())
			}
		})
	}
	// The check can fail: an undefined flag is refused.
	var out, errOut bytes.Buffer
	if err := cli.Run(context.Background(), &cli.Env{Stdout: &out, Stderr: &errOut}, []string{"proxy", "--controller", "--no-such-flag", "--help"}); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Fatalf("undefined flag accepted: %v", err)
	}
}
