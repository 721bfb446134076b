package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// keyInSubdir returns a key whose entry file lives in fan-out subdirectory b.
func keyInSubdir(b byte) string {
	for i := 0; ; i++ {
		if k := fmt.Sprint("key", i); hashKey(k)[0] == b {
			return k
		}
	}
}

// TestBadSubdirDoesNotFailOpen (issue 13, item 5): one fan-out
// subdirectory that is a plain file (or a link) used to make disk.New fail
// for the whole cache. It is now removed and reported, the rest of the
// cache opens, and the keys of that subdirectory can be stored again.
func TestBadSubdirDoesNotFailOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"plain file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Join(t.TempDir(), "nowhere"), path); err != nil {
				t.Skipf("no symlinks here: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, Config{Dir: dir})
			mustSet(t, s, "kept", []byte("value"), time.Hour)
			s.Close()
			bad := keyInSubdir(hashKey("kept")[0] + 1)
			sub := filepath.Dir(s.path(hashKey(bad)))
			tc.make(t, sub)
			log := &errLog{}
			s = openStore(t, Config{Dir: dir, OnError: log.hook})
			if log.len() != 1 || !strings.Contains(fmt.Sprint(log.errs), "not a directory") {
				t.Errorf("reports %v, want one saying the subdirectory is not a directory", log.errs)
			}
			if got, ok := getString(t, s, "kept"); !ok || got != "value" {
				t.Errorf("Get(kept) = %q, %v", got, ok)
			}
			mustSet(t, s, bad, []byte("again"), time.Hour)
			if got, _ := getString(t, s, bad); got != "again" {
				t.Errorf("Get of a key in the replaced subdirectory = %q", got)
			}
		})
	}
}

// TestUnreadableSubdirDoesNotFailOpen (issue 13, item 5): an unreadable
// fan-out subdirectory is skipped and reported; the rest opens.
func TestUnreadableSubdirDoesNotFailOpen(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root, whom a mode-000 directory does not stop from reading; TestBadSubdirDoesNotFailOpen covers the other bad subdirectories")
	}
	dir := t.TempDir()
	s := openStore(t, Config{Dir: dir})
	mustSet(t, s, "kept", []byte("value"), time.Hour)
	other := keyInSubdir(hashKey("kept")[0] + 1)
	mustSet(t, s, other, []byte("hidden"), time.Hour)
	s.Close()
	sub := filepath.Dir(s.path(hashKey(other)))
	if err := os.Chmod(sub, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(sub, 0o755) })
	log := &errLog{}
	s = openStore(t, Config{Dir: dir, OnError: log.hook})
	if log.len() != 1 {
		t.Errorf("reports %v, want one for the unreadable subdirectory", log.errs)
	}
	if got, ok := getString(t, s, "kept"); !ok || got != "value" {
		t.Errorf("Get(kept) = %q, %v", got, ok)
	}
}

// startClock is a settable clock: base plus off.
type startClock struct {
	base time.Time
	off  time.Duration
}

func (c *startClock) now() time.Time { return c.base.Add(c.off) }

// TestClockBefore1970 (issue 12): a clock before 1970 made now+ttl overflow
// the saturation check, so entries written at such a time never expired.
// Each clock, from the zero time.Time on, must expire an entry at its ttl,
// in Get, in the sweep and in the open scan.
func TestClockBefore1970(t *testing.T) {
	for _, start := range []time.Time{
		{}, // year 1, whose Unix nanoseconds do not fit in an int64
		time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC), // before int64 nanoseconds
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0).Add(-time.Minute),
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(start.Format("2006-01-02"), func(t *testing.T) {
			c := &startClock{base: start}
			dir := t.TempDir()
			s := openStore(t, Config{Dir: dir, Now: c.now, SweepInterval: -1})
			mustSet(t, s, "get", []byte("v"), time.Hour)
			mustSet(t, s, "sweep", []byte("v"), time.Hour)
			mustSet(t, s, "scan", []byte("v"), time.Hour)
			c.off += 59 * time.Minute
			for _, k := range []string{"get", "sweep", "scan"} {
				if _, ok := getString(t, s, k); !ok {
					t.Fatalf("%s expired before its ttl", k)
				}
			}
			c.off += 2 * time.Minute
			if v, ok := getString(t, s, "get"); ok {
				t.Errorf("Get served %q past its ttl", v)
			}
			if n, err := s.Sweep(); err != nil || n != 2 {
				t.Errorf("Sweep removed %d (%v), want 2", n, err)
			}
			mustSet(t, s, "scan", []byte("v"), time.Hour)
			s.Close()
			c.off += 2 * time.Hour
			s = openStore(t, Config{Dir: dir, Now: c.now})
			if st := s.Stats(); st.Entries != 0 || st.Expired != 1 {
				t.Errorf("after reopening past the ttl: %+v, want the entry expired by the scan", st)
			}
		})
	}
}

// TestErrorsQuoteKeysShortly (issue 13, item 8): an error about a 1 MiB key
// is short (the key is truncated), whatever the call.
func TestErrorsQuoteKeysShortly(t *testing.T) {
	huge := strings.Repeat("k", 1<<20)
	m, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	resp, pol := tiercachetest.Response("v", 10), tiercache.NewTTLPolicy(time.Hour)
	_, tooLong := m.Put(ctx, huge, resp, pol)
	m.Close()
	_, _, gerr := m.Get(ctx, huge)
	_, perr := m.Put(ctx, huge, resp, pol)
	derr := m.Delete(ctx, huge)
	for i, err := range []error{tooLong, gerr, perr, derr} {
		if err == nil || len(err.Error()) > 512 {
			t.Errorf("call %d: error of %d bytes for a 1 MiB key, want a short one", i, len(fmt.Sprint(err)))
		}
	}
}
