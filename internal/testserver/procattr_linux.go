//go:build linux

package testserver

import "syscall"

// sysProcAttr makes the kernel kill the server when the parent process dies, so
// that a crashed or killed test or bench binary leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
