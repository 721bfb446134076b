package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tiercache/tiercache"
)

// openEntry opens an entry file for reading and checks, on the open
// descriptor (Fstat), that it is a regular file. On Unix it opens with
// O_NONBLOCK, so that a FIFO or a device put in the cache directory cannot
// block the open (and with it Get, Close and the open scan), and with
// O_NOFOLLOW, so that a symbolic link is never followed out of the
// directory. Anything but a regular file gives an error wrapping
// tiercache.ErrCorrupt together with the FileInfo of what is at path, so
// that the caller removes exactly that. The caller closes the file.
func openEntry(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		// O_NOFOLLOW refuses a link with ELOOP (EMLINK, EFTYPE on some
		// systems): look at what is there without following it.
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, fi, notRegular(fi)
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi)
	}
	if err != nil {
		f.Close()
		return nil, fi, err
	}
	return f, fi, nil
}

func notRegular(fi os.FileInfo) error {
	return fmt.Errorf("%w: not a regular file (%v)", tiercache.ErrCorrupt, fi.Mode().Type())
}
