//go:build !unix

package testserver

import "os"

// stopSignal and contSignal are nil where there is no SIGSTOP: Pause and
// Resume return errors.ErrUnsupported.
var stopSignal, contSignal os.Signal
