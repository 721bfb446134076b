//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package disk

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLockedByAnotherProcess holds the flock through a separate open file
// description, as another process would, and checks that NewStore refuses
// the Dir until it is released.
func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(Config{Dir: dir}); !errors.Is(err, ErrDirInUse) {
		t.Fatalf("NewStore on a Dir locked elsewhere: %v, want ErrDirInUse", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	openStore(t, Config{Dir: dir})
}
