//go:build unix

package disk

import (
	"os"
	"syscall"
)

// openFlags open an entry file without blocking on a FIFO or a device and
// without following a symbolic link.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOFOLLOW
