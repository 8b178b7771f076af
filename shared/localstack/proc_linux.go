package localstack

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the child in its own process group (so stop reaches anything it spawns and
// a Ctrl-C in the terminal reaches the dev server first, which then stops the children in
// order) and kills it if this process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
