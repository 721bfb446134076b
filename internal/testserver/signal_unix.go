//go:build unix

package testserver

import (
	"os"
	"syscall"
)

// stopSignal and contSignal pause and resume a process (Pause, Resume).
var stopSignal, contSignal os.Signal = syscall.SIGSTOP, syscall.SIGCONT
