//go:build unix

package memcached

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) used by this process so
// far: the client's share of a benchmark against servers in other
// processes, less sensitive than wall time to what else runs on the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
