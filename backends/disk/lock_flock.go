//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package disk

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on f, so that a second
// process opening the same Dir fails with ErrDirInUse.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
