package disk

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestMaxBytesOversubscribed(t *testing.T) {
	const max = 64 << 10
	s := openStore(t, Config{MaxBytes: max, Sync: NoSync})
	var written int64
	for i := 0; written < 10*max; i++ {
		key := fmt.Sprintf("key-%d", i%97)
		value := bytes.Repeat([]byte{byte(i)}, 500+(i*977)%6000)
		mustSet(t, s, key, value, time.Hour)
		written += fileSize(len(key), len(value))
		if total := totalSize(walkFiles(t, s.Dir())); total > max {
			t.Fatalf("after Put %d: %d bytes on disk, MaxBytes %d", i, total, max)
		}
		if got, _ := getString(t, s, key); got != string(value) {
			t.Fatalf("the entry just stored is missing")
		}
	}
	st := s.Stats()
	if st.Evictions == 0 || st.Bytes < max/2 {
		t.Fatalf("stats %+v: expected evictions and a well-used cache", st)
	}
	checkConsistent(t, s)
}

func TestTooLarge(t *testing.T) {
	m, err := New(Config{Dir: t.TempDir(), MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	small := tiercachetest.Response("small", 100)
	tiercachetest.MustPut(t, m, "small", small, tiercache.NewTTLPolicy(time.Hour))
	_, err = m.Put(ctx, "big", tiercachetest.Response("big", 5000), tiercache.NewTTLPolicy(time.Hour))
	if !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put of an entry above MaxBytes: %v, want ErrTooLarge", err)
	}
	tiercachetest.MustGet(t, m, "small", small) // nothing was evicted for it
	tiercachetest.MustGet(t, m, "big", nil)
}

func TestLRUOrder(t *testing.T) {
	value := []byte(strings.Repeat("v", 1000))
	entry := fileSize(1, len(value))
	s := openStore(t, Config{MaxBytes: 3 * entry})
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, s, k, value, time.Hour)
	}
	getString(t, s, "a") // a is now the most recent; b the least
	mustSet(t, s, "d", value, time.Hour)
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := getString(t, s, k); ok != want {
			t.Errorf("after eviction, %s present = %v, want %v", k, ok, want)
		}
	}
	checkConsistent(t, s)
}

func TestExpiry(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	s := openStore(t, Config{Dir: dir, Now: clock.Now, SweepInterval: -1})
	for i, ttl := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, time.Hour} {
		mustSet(t, s, fmt.Sprint(i), []byte("v"), ttl)
	}
	clock.Advance(time.Minute - 1)
	if _, ok := getString(t, s, "0"); !ok {
		t.Fatal("entry expired early")
	}
	clock.Advance(1)
	if _, ok := getString(t, s, "0"); ok { // lazy removal on read
		t.Fatal("expired entry returned")
	}
	clock.Advance(time.Minute)
	if n, err := s.Sweep(); n != 1 || err != nil { // removes "1"
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if st := s.Stats(); st.Entries != 2 || st.Expired != 2 {
		t.Fatalf("stats %+v", st)
	}
	checkConsistent(t, s)
	s.Close()
	clock.Advance(time.Minute) // "2" expires while closed: removed on open
	s = openStore(t, Config{Dir: dir, Now: clock.Now})
	if st := s.Stats(); st.Entries != 1 || st.Expired != 1 {
		t.Fatalf("stats after reopen %+v", st)
	}
	checkConsistent(t, s)
}

func TestManagerExpiry(t *testing.T) {
	clock := newFakeClock()
	m, err := New(Config{Dir: t.TempDir(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp := tiercachetest.Response("r", 10)
	pol := tiercache.NewTTLPolicy(time.Minute, tiercache.WithNow(clock.Now()))
	tiercachetest.MustPut(t, m, "k", resp, pol)
	clock.Advance(59 * time.Second)
	tiercachetest.MustGet(t, m, "k", resp)
	clock.Advance(time.Second)
	tiercachetest.MustGet(t, m, "k", nil)
	checkConsistent(t, m.Store())
}

func TestPeriodicSweep(t *testing.T) {
	clock := newFakeClock()
	s := openStore(t, Config{Now: clock.Now, SweepInterval: time.Millisecond})
	for i := range 10 {
		mustSet(t, s, fmt.Sprint(i), []byte("v"), time.Minute)
	}
	clock.Advance(time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Expired < 10 { // counted after each unlink
		if time.Now().After(deadline) {
			t.Fatalf("the periodic sweep removed only %d entries", s.Stats().Expired)
		}
		time.Sleep(time.Millisecond)
	}
	if files := walkFiles(t, s.Dir()); len(files) != 0 {
		t.Fatalf("%d files left after the sweep", len(files))
	}
}

// TestConcurrent mixes Set, Get, Delete, eviction and sweeps on a few keys;
// every hit must hold a value written for its key, and afterwards the index
// must match the disk exactly.
func TestConcurrent(t *testing.T) {
	const max = 32 << 10
	s := openStore(t, Config{MaxBytes: max, Sync: NoSync, SweepInterval: time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 6 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprintf("k%d", (g*7+i)%16)
				value := fmt.Sprintf("%s:%d:%s", key, i, strings.Repeat("x", (i*131)%4000))
				ttl := time.Hour
				if i%11 == 0 {
					ttl = time.Nanosecond // expires at once: exercises lazy removal and sweeps
				}
				if err := s.Set(ctx, key, []byte(value), ttl); err != nil {
					errs <- err
					return
				}
				got, err := s.Get(ctx, key)
				if err != nil || (got != nil && !strings.HasPrefix(string(got), key+":")) {
					errs <- fmt.Errorf("Get(%s) = %.30q, %v", key, got, err)
					return
				}
				if i%13 == 0 {
					if err := s.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.Close() // stops the sweep, so the disk holds still while compared
	checkConsistent(t, s)
}
