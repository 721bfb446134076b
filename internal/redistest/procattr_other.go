//go:build !linux

package redistest

import "syscall"

// sysProcAttr returns nil: only Linux offers a parent-death signal; elsewhere
// t.Cleanup alone stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
