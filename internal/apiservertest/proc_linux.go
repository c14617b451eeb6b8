package apiservertest

import (
	"os/exec"
	"syscall"
)

// bindLifetime makes the kernel kill the child when the test binary dies, so
// a crashed test leaves no etcd or kube-apiserver behind.
func bindLifetime(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
