//go:build !linux

package testserver

import "syscall"

// sysProcAttr returns nil: only Linux offers a parent-death signal; elsewhere
// the caller alone stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
