package disk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestConformance(t *testing.T) {
	for _, sync := range []SyncMode{SyncFile, SyncDir, NoSync} {
		t.Run(sync.String(), func(t *testing.T) {
			t.Parallel() // the suite's real-time waits overlap
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
				m, err := New(Config{Dir: t.TempDir(), Sync: sync})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
				return m
			})
		})
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*tiercache.Response{}
	for i := range 40 {
		key := fmt.Sprintf("key-%d", i)
		want[key] = tiercachetest.Response(key, 100*i)
		tiercachetest.MustPut(t, m, key, want[key], tiercache.NewTTLPolicy(time.Hour))
	}
	before := m.Stats()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = New(Config{Dir: dir})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer m.Close()
	if after := m.Stats(); after.Entries != before.Entries || after.Bytes != before.Bytes {
		t.Fatalf("after reopen %d entries / %d bytes, before %d / %d", after.Entries, after.Bytes, before.Entries, before.Bytes)
	}
	for key, resp := range want {
		tiercachetest.MustGet(t, m, key, resp)
	}
	checkConsistent(t, m.Store())
}

func TestKeysStayInsideDir(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Config{Dir: filepath.Join(dir, "cache")})
	keys := []string{
		"../../etc/passwd", "/etc/passwd", `..\..\windows`, "a/../../b", "nul\x00byte", "\x00",
		strings.Repeat("k", 4096), strings.Repeat("../", 1000), ".", "..", ".lock", ".tmp-x", "Aa", "aA",
	}
	for i, key := range keys {
		mustSet(t, s, key, []byte(fmt.Sprint(i)), time.Hour)
	}
	for i, key := range keys {
		if got, ok := getString(t, s, key); !ok || got != fmt.Sprint(i) {
			t.Errorf("Get(%.20q) = %q, %v; want %d", key, got, ok, i)
		}
	}
	// Everything lives under Dir/cache, named by a hash.
	for _, f := range walkFiles(t, dir) {
		rel, _ := filepath.Rel(s.Dir(), f.path)
		if strings.HasPrefix(rel, "..") || len(filepath.Base(f.path)) != 64 {
			t.Errorf("unexpected file %s", f.path)
		}
	}
	checkConsistent(t, s)
}

func TestClosed(t *testing.T) {
	m, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	resp, pol := tiercachetest.Response("x", 10), tiercache.NewTTLPolicy(time.Hour)
	_, _, gerr := m.Get(ctx, "x")
	_, perr := m.Put(ctx, "x", resp, pol)
	derr := m.Delete(ctx, "x")
	_, serr := m.Store().Sweep()
	for i, err := range []error{gerr, perr, derr, serr} {
		if !errors.Is(err, tiercache.ErrClosed) {
			t.Errorf("call %d after Close: %v, want ErrClosed", i, err)
		}
	}
}

func TestDirInUse(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Config{Dir: dir})
	for _, d := range []string{dir, dir + "/.", filepath.Join(dir, "00", "..")} {
		if _, err := NewStore(Config{Dir: d}); !errors.Is(err, ErrDirInUse) {
			t.Errorf("second NewStore(%s): %v, want ErrDirInUse", d, err)
		}
	}
	mustSet(t, s, "k", []byte("v"), time.Hour)
	s.Close()
	s2 := openStore(t, Config{Dir: dir}) // released on Close
	if got, _ := getString(t, s2, "k"); got != "v" {
		t.Fatalf("after reopen Get = %q", got)
	}
}

func TestBadConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"empty Dir", Config{}, tiercache.ErrInvalid},
		{"negative MaxBytes", Config{Dir: t.TempDir(), MaxBytes: -1}, tiercache.ErrInvalid},
		{"bad Sync", Config{Dir: t.TempDir(), Sync: 9}, tiercache.ErrInvalid},
		{"Dir under a file", Config{Dir: filepath.Join(file, "cache")}, nil},
		{"Dir is a file", Config{Dir: file}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStore(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatal("NewStore succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "disk: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
		})
	}
}

// TestFailedOpenReleasesDir: an open that fails after taking the directory
// (its scan cannot read it) releases it again.
func TestFailedOpenReleasesDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root, whom a mode-0300 directory does not stop from reading")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o300); err != nil {
		t.Fatal(err)
	}
	if s, err := NewStore(Config{Dir: dir}); err == nil {
		s.Close()
		t.Fatal("NewStore of an unreadable Dir succeeded")
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	openStore(t, Config{Dir: dir})
}

func TestStoreTTLZeroDeletes(t *testing.T) {
	s := openStore(t, Config{})
	mustSet(t, s, "k", []byte("v"), time.Hour)
	mustSet(t, s, "k", []byte("w"), 0)
	if _, ok := getString(t, s, "k"); ok {
		t.Fatal("Set with ttl 0 kept the key")
	}
	if err := s.Set(ctx, "", []byte("v"), time.Hour); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Set with an empty key: %v", err)
	}
	if err := s.Set(ctx, strings.Repeat("k", MaxKeyLen+1), nil, time.Hour); !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Set with a huge key: %v", err)
	}
	checkConsistent(t, s)
}

func TestStoreRoundTrip(t *testing.T) {
	s := openStore(t, Config{Sync: NoSync})
	tests := []struct {
		name, key string
		value     []byte
	}{
		{"empty value", "empty", []byte{}},
		{"one byte", "one", []byte{0}},
		{"binary", "bin", []byte("\x00\xff\r\n")},
		{"pooled buffer", "4k", bytes.Repeat([]byte("a"), 4<<10)},
		{"unpooled buffer", "2m", bytes.Repeat([]byte("b"), 2<<20)},
		{"long key", strings.Repeat("k", MaxKeyLen), []byte("v")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustSet(t, s, tc.key, tc.value, time.Hour)
			got, err := s.Get(ctx, tc.key)
			if err != nil || got == nil || !bytes.Equal(got, tc.value) {
				t.Fatalf("Get = %d bytes, %v; want %d bytes", len(got), err, len(tc.value))
			}
			if len(got) == 0 {
				return
			}
			got[0]++ // the caller owns the slice: this must not reach the store
			if again, _ := s.Get(ctx, tc.key); !bytes.Equal(again, tc.value) {
				t.Fatal("modifying a returned value changed the stored one")
			}
		})
	}
	checkConsistent(t, s)
}

// TestCloseWhileBusy closes a Store under load: every call either works or
// fails with ErrClosed, and Close waits for the calls in progress.
func TestCloseWhileBusy(t *testing.T) {
	s := openStore(t, Config{Sync: NoSync, SweepInterval: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprint(g, i%8)
				err := s.Set(ctx, key, []byte(key), time.Hour)
				if err == nil {
					_, err = s.Get(ctx, key)
				}
				if err != nil {
					if !errors.Is(err, tiercache.ErrClosed) {
						t.Errorf("call during Close: %v", err)
					}
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	checkConsistent(t, s)
}
