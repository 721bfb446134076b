//go:build !unix

package memcachedtest

import "os"

// stopSignal and contSignal are nil where there is no SIGSTOP: Pause skips.
var stopSignal, contSignal os.Signal
