package disk

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var ctx = context.Background()

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// errLog collects OnError reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) hook(_ string, err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

// openStore opens a Store on cfg (Dir defaults to a new temp dir) and closes
// it at the end of the test.
func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// diskFile is a regular file found under a cache directory.
type diskFile struct {
	path string
	size int64
}

// walkFiles returns every regular file under dir except the lock file and
// fails the test if any path escapes dir.
func walkFiles(t testing.TB, dir string) []diskFile {
	t.Helper()
	var out []diskFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, rerr := filepath.Rel(dir, p); rerr != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("path %s escapes %s", p, dir)
		}
		if d.Type().IsRegular() && d.Name() != lockName {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, diskFile{p, fi.Size()})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

func totalSize(files []diskFile) int64 {
	var n int64
	for _, f := range files {
		n += f.size
	}
	return n
}

// checkConsistent fails unless the index accounts for exactly the files on
// disk (call it with no operation in flight).
func checkConsistent(t testing.TB, s *Store) {
	t.Helper()
	files := walkFiles(t, s.Dir())
	st := s.Stats()
	if st.Entries != int64(len(files)) || st.Bytes != totalSize(files) {
		t.Fatalf("index has %d entries / %d bytes; disk has %d files / %d bytes",
			st.Entries, st.Bytes, len(files), totalSize(files))
	}
	if st.Bytes > st.MaxBytes {
		t.Fatalf("%d bytes stored, MaxBytes %d", st.Bytes, st.MaxBytes)
	}
}

func mustSet(t testing.TB, s *Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(ctx, key, value, ttl); err != nil {
		t.Fatalf("Set(%.40q): %v", key, err)
	}
}

func getString(t testing.TB, s *Store, key string) (string, bool) {
	t.Helper()
	v, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%.40q): %v", key, err)
	}
	return string(v), v != nil
}
