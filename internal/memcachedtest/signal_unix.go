//go:build unix

package memcachedtest

import (
	"os"
	"syscall"
)

// stopSignal and contSignal pause and resume a server (Pause, Resume).
var stopSignal, contSignal os.Signal = syscall.SIGSTOP, syscall.SIGCONT
