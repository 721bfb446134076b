package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// storedFile returns the path and bytes of key's entry file.
func storedFile(t *testing.T, s *Store, key string) (string, []byte) {
	t.Helper()
	p := s.path(hashKey(key))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, data
}

// expectRemovedMiss checks that key is a miss, its file is gone and one more
// corrupt entry was counted and reported.
func expectRemovedMiss(t *testing.T, s *Store, log *errLog, key, path string, corrupt uint64) {
	t.Helper()
	if got, ok := getString(t, s, key); ok {
		t.Fatalf("Get returned %q from a damaged file", got)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("damaged file not removed: %v", err)
	}
	if st := s.Stats(); st.Corrupt != corrupt || log.len() != int(corrupt) {
		t.Fatalf("Corrupt = %d, hook calls = %d; want %d", st.Corrupt, log.len(), corrupt)
	}
	checkConsistent(t, s)
}

func TestFlipEveryByte(t *testing.T) {
	log := &errLog{}
	s := openStore(t, Config{OnError: log.hook, Sync: NoSync})
	const key = "flip"
	value := []byte("small value 0123456789")
	mustSet(t, s, key, value, time.Hour)
	path, orig := storedFile(t, s, key)
	if len(orig) != int(fileSize(len(key), len(value))) {
		t.Fatalf("file is %d bytes, want %d", len(orig), fileSize(len(key), len(value)))
	}
	for i := range orig {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			mustSet(t, s, key, value, time.Hour)
			bad := append([]byte(nil), orig...)
			bad[i] ^= mask
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			before := s.Stats().Corrupt
			expectRemovedMiss(t, s, log, key, path, before+1)
		}
	}
	for _, err := range log.errs {
		if !errors.Is(err, tiercache.ErrCorrupt) && !errors.Is(err, tiercache.ErrVersion) {
			t.Fatalf("reported error %v wraps neither ErrCorrupt nor ErrVersion", err)
		}
	}
}

func TestTruncatedAndExtended(t *testing.T) {
	log := &errLog{}
	s := openStore(t, Config{OnError: log.hook})
	const key = "trunc"
	value := []byte(strings.Repeat("v", 100))
	mustSet(t, s, key, value, time.Hour)
	path, orig := storedFile(t, s, key)
	var corrupt uint64
	damaged := [][]byte{append(append([]byte(nil), orig...), 0)}
	for n := 0; n < len(orig); n += 7 {
		damaged = append(damaged, orig[:n])
	}
	for _, bad := range damaged {
		mustSet(t, s, key, value, time.Hour)
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		corrupt++
		expectRemovedMiss(t, s, log, key, path, corrupt)
	}
}

func TestFileOfAnotherKey(t *testing.T) {
	log := &errLog{}
	s := openStore(t, Config{OnError: log.hook})
	mustSet(t, s, "a", []byte("value of a"), time.Hour)
	mustSet(t, s, "b", []byte("value of b"), time.Hour)
	_, data := storedFile(t, s, "a")
	pathB := s.path(hashKey("b"))
	if err := os.WriteFile(pathB, data, 0o600); err != nil { // a valid file under the wrong name
		t.Fatal(err)
	}
	expectRemovedMiss(t, s, log, "b", pathB, 1)
	if got, _ := getString(t, s, "a"); got != "value of a" {
		t.Fatalf("Get(a) = %q", got)
	}
}

func TestOpenCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	log := &errLog{}
	s := openStore(t, Config{Dir: dir, Now: clock.Now})
	mustSet(t, s, "good", []byte("good value"), 2*time.Hour)
	mustSet(t, s, "expired", []byte("old value"), time.Hour)
	mustSet(t, s, "corrupt", []byte("bad value"), 2*time.Hour)
	s.Close()

	corruptPath := s.path(hashKey("corrupt"))
	if err := os.Truncate(corruptPath, 10); err != nil {
		t.Fatal(err)
	}
	leftovers := []string{filepath.Join(dir, "00", ".tmp-123"), filepath.Join(dir, "ff", ".tmp-crash")}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half-written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	foreign := filepath.Join(dir, "README")
	if err := os.WriteFile(foreign, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}

	clock.Advance(90 * time.Minute)
	s = openStore(t, Config{Dir: dir, Now: clock.Now, OnError: log.hook})
	for _, p := range append(leftovers, corruptPath, s.path(hashKey("expired"))) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the open: %v", p, err)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("open removed a file that is not a cache entry: %v", err)
	}
	if st := s.Stats(); st.Entries != 1 || st.Corrupt != 1 || st.Expired != 1 || log.len() != 1 {
		t.Fatalf("stats after open %+v, %d reports", st, log.len())
	}
	if got, _ := getString(t, s, "good"); got != "good value" {
		t.Fatalf("Get(good) = %q", got)
	}
	if err := os.Remove(foreign); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, s)
}

// fullFile is a temp file on a disk that fills up after limit bytes.
type fullFile struct {
	*os.File
	limit int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.File.Write(p[:f.limit])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func TestDiskFull(t *testing.T) {
	s := openStore(t, Config{})
	mustSet(t, s, "k", []byte("old value"), time.Hour)
	s.createTemp = func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		return &fullFile{f, 16}, nil
	}
	err := s.Set(ctx, "k", []byte(strings.Repeat("new", 100)), time.Hour)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Set on a full disk: %v, want ENOSPC", err)
	}
	for _, f := range walkFiles(t, s.Dir()) {
		if strings.HasPrefix(filepath.Base(f.path), tempPrefix) {
			t.Fatalf("temp file %s left behind", f.path)
		}
	}
	if got, _ := getString(t, s, "k"); got != "old value" {
		t.Fatalf("after a failed Set, Get = %q, want the old value", got)
	}
	checkConsistent(t, s)
}

// TestUndecodable stores bytes the codec cannot decode: the Manager reports
// a miss, calls the hook and removes the entry.
func TestUndecodable(t *testing.T) {
	log := &errLog{}
	m, err := New(Config{Dir: t.TempDir(), OnError: log.hook})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mustSet(t, m.Store(), "k", []byte("not a codec frame"), time.Hour)
	if resp, pol, err := m.Get(ctx, "k"); resp != nil || pol != nil || err != nil {
		t.Fatalf("Get of an undecodable entry = %v, %v, %v; want a miss", resp, pol, err)
	}
	if log.len() != 1 || m.Stats().Corrupt != 1 {
		t.Fatalf("hook calls %d, Corrupt %d; want 1 and 1", log.len(), m.Stats().Corrupt)
	}
	if _, ok := getString(t, m.Store(), "k"); ok {
		t.Fatal("undecodable entry not removed")
	}
	checkConsistent(t, m.Store())
}
