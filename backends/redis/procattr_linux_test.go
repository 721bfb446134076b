//go:build linux

package redis

import "syscall"

// childProcAttr makes the kernel kill process B when the test dies.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
