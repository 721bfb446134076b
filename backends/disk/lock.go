package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// lockName is the lock file in Dir. It stays empty (0 bytes).
const lockName = ".lock"

// openDirs is the process-wide registry of directories held by open Stores.
var openDirs struct {
	mu   sync.Mutex
	dirs map[string]bool
}

// acquireDir creates dir, resolves it to an absolute path without symlinks,
// and claims it: in this process through openDirs, across processes through
// an advisory lock on Dir/.lock where the platform has flock (see
// lock_flock.go). The lock dies with its process, so a crashed writer never
// blocks the next open. It returns the canonical path and the release func.
func acquireDir(dir string) (string, func() error, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return "", nil, fmt.Errorf("disk: create Dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", nil, fmt.Errorf("disk: resolve Dir: %w", err)
	}
	openDirs.mu.Lock()
	defer openDirs.mu.Unlock()
	if openDirs.dirs[abs] {
		return "", nil, fmt.Errorf("%w: %s is open in this process", ErrDirInUse, abs)
	}
	f, err := os.OpenFile(filepath.Join(abs, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", nil, fmt.Errorf("disk: open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("%w: %s is locked by another process (%v)", ErrDirInUse, abs, err)
	}
	if openDirs.dirs == nil {
		openDirs.dirs = make(map[string]bool)
	}
	openDirs.dirs[abs] = true
	release := func() error {
		openDirs.mu.Lock()
		defer openDirs.mu.Unlock()
		delete(openDirs.dirs, abs)
		return errors.Join(unlockFile(f), f.Close())
	}
	return abs, release, nil
}
