//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package disk

import "os"

// lockFile is a no-op where flock is unavailable: only the in-process
// registry guards Dir, and two processes on one Dir are not supported.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
