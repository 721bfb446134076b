package disk

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// unremovable replaces key's entry file by a non-empty directory, which
// the sweep cannot remove, so that it reports an error to OnError.
func unremovable(t *testing.T, s *Store, key string) {
	t.Helper()
	path := s.path(hashKey(key))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSweepSurvivesPanics (issue 12): a panic of the OnError hook in the
// periodic sweep used to take the process down. It is recovered, counted,
// reported as ErrPanic, and the sweep goes on.
func TestSweepSurvivesPanics(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	calls := 0
	var errs []error
	hook := func(_ string, err error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			panic("hook is broken")
		}
		errs = append(errs, err)
	}
	s := openStore(t, Config{Now: clock.Now, OnError: hook, SweepInterval: time.Millisecond})
	mustSet(t, s, "a", []byte("v"), time.Minute)
	mustSet(t, s, "b", []byte("v"), time.Hour)
	unremovable(t, s, "a")
	unremovable(t, s, "b")
	count := func() int { mu.Lock(); defer mu.Unlock(); return calls }
	clock.Advance(2 * time.Minute) // a expires: its removal fails, the hook panics
	waitUntil(t, "the panic to be reported", func() bool { return count() >= 2 })
	clock.Advance(2 * time.Hour) // b expires: a later sweep reports it
	waitUntil(t, "the next sweep", func() bool { return count() >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(errs[0], tiercache.ErrPanic) {
		t.Errorf("first report %v, want the recovered panic (ErrPanic)", errs[0])
	}
	if errors.Is(errs[1], tiercache.ErrPanic) {
		t.Errorf("second report %v, want b's removal error", errs[1])
	}
	if st := s.Stats(); st.Panics != 1 {
		t.Errorf("Stats().Panics = %d, want 1", st.Panics)
	}
}

// waitUntil polls cond; it fails the test after a generous hang guard and
// asserts nothing about elapsed time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
