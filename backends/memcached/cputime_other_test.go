//go:build !unix

package memcached

import "time"

// processCPU is not measured here (no getrusage).
func processCPU() time.Duration { return 0 }
