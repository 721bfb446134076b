//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package disk

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// hangGuard turns a hang into a failure; it is not a timing claim.
const hangGuard = 5 * time.Second

// within runs fn and fails the test if it has not returned after hangGuard.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatalf("%s blocks", what)
	}
}

// specialFiles are things other than a regular file that can appear under an
// entry's name: each must be a miss that is removed and reported, and never
// block Get, Close or the open scan.
var specialFiles = []struct {
	name string
	make func(t *testing.T, path string)
}{
	{"FIFO", func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"symlink to a valid entry outside", func(t *testing.T, path string) {
		outside := filepath.Join(t.TempDir(), "entry")
		if err := os.WriteFile(outside, appendEntry(nil, "k", []byte("outside"), time.Now().Add(time.Hour).UnixNano()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, path); err != nil {
			t.Fatal(err)
		}
	}},
	{"directory", func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestFIFOInDirIsRemovedMiss (issue 13, item 4): a FIFO under an entry's
// name used to block Get (and then Close) forever: the file was opened
// before its type was checked. Now it is opened without blocking and
// without following links, checked with Fstat, and is a miss that is
// removed and reported, like any other non-regular file.
func TestFIFOInDirIsRemovedMiss(t *testing.T) {
	for _, sf := range specialFiles {
		t.Run(sf.name, func(t *testing.T) {
			log := &errLog{}
			s := openStore(t, Config{OnError: log.hook})
			mustSet(t, s, "k", []byte("value"), time.Hour)
			path := s.path(hashKey("k"))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			sf.make(t, path)
			within(t, "Get", func() {
				if got, ok := getString(t, s, "k"); ok {
					t.Errorf("Get served %q from a %s", got, sf.name)
				}
			})
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the %s was not removed: %v", sf.name, err)
			}
			if st := s.Stats(); st.Corrupt != 1 || log.len() != 1 {
				t.Errorf("Corrupt = %d, reports = %d; want 1, 1", st.Corrupt, log.len())
			}
			within(t, "Close", func() { s.Close() })
		})
	}
}

// TestFIFOInDirDoesNotBlockOpen (issue 13, item 4): the same files met by
// the open scan used to block disk.New forever.
func TestFIFOInDirDoesNotBlockOpen(t *testing.T) {
	for _, sf := range specialFiles {
		t.Run(sf.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, Config{Dir: dir})
			mustSet(t, s, "kept", []byte("value"), time.Hour)
			mustSet(t, s, "k", []byte("value"), time.Hour)
			path := s.path(hashKey("k"))
			s.Close()
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			sf.make(t, path)
			log := &errLog{}
			within(t, "NewStore", func() { s = openStore(t, Config{Dir: dir, OnError: log.hook}) })
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the %s was not removed: %v", sf.name, err)
			}
			if log.len() != 1 {
				t.Errorf("%d reports, want 1", log.len())
			}
			if got, ok := getString(t, s, "kept"); !ok || got != "value" {
				t.Errorf("Get(kept) = %q, %v after the open", got, ok)
			}
			checkConsistent(t, s)
		})
	}
}
