//go:build !unix

package disk

import "os"

// openFlags: elsewhere there are no FIFOs to block on; the file type is
// still checked on the open descriptor.
const openFlags = os.O_RDONLY
