package cli

import (
	"strings"
	"testing"
)

// TestHelpOnStdout: --help is output asked for (stdout, exit 0); a bad flag
// is an error (stderr, exit 2), for every subcommand.
func TestHelpOnStdout(t *testing.T) {
	for _, c := range Commands() {
		t.Run(c.Name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.Name, "--help")
			if code != ExitOK || !strings.Contains(stdout, "Usage: splitproof "+c.Name) || stderr != "" {
				t.Errorf("%s --help: exit %d, stdout %q, stderr %q; want exit 0 and the usage on stdout only", c.Name, code, head(stdout), head(stderr))
			}
			code, stdout, stderr = runCLI(t, c.Name, "--no-such-flag")
			if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, "no-such-flag") {
				t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want exit 2 and the error on stderr only", c.Name, code, head(stdout), head(stderr))
			}
		})
	}
}

func head(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
