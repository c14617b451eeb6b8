//go:build !linux

package apiservertest

import "os/exec"

// bindLifetime has no portable equivalent outside Linux; Stop still ends the
// processes.
func bindLifetime(*exec.Cmd) {}
