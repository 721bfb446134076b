package lru

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/clock"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestClose(t *testing.T) {
	ctx := context.Background()
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tiercachetest.MustPut(t, m, "k", tiercachetest.Response("k", 10), tiercache.NewTTLPolicy(time.Hour))
	tiercachetest.MustGet(t, m, "k", tiercachetest.Response("k", 10))
	for i := range 2 {
		if err := m.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	pol := tiercache.NewTTLPolicy(time.Hour)
	expired := tiercache.NewTTLPolicy(0)
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"Get", third(m.Get(ctx, "k")), tiercache.ErrClosed},
		{"Put", second(m.Put(ctx, "k", tiercachetest.Response("k", 10), pol)), tiercache.ErrClosed},
		{"PutExpired", second(m.Put(ctx, "k", tiercachetest.Response("k", 10), expired)), tiercache.ErrClosed},
		{"PutInvalid", second(m.Put(ctx, "", nil, pol)), tiercache.ErrInvalid},
		{"Delete", m.Delete(ctx, "k"), tiercache.ErrClosed},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s after Close: %v, want %v", c.name, c.err, c.want)
		}
	}
	if st := m.Stats(); st.Hits != 1 || m.Len() != 0 || m.Bytes() != 0 {
		t.Fatalf("after Close: Stats %+v, Len %d, Bytes %d", st, m.Len(), m.Bytes())
	}
}

func second[T any](_ T, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }

func TestCloseStopsClock(t *testing.T) {
	refs, goroutines := clock.Refs(), runtime.NumGoroutine()
	var ms []*Manager
	for range 3 {
		m, err := New(Config{MaxEntries: 10, MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if got := clock.Refs(); got != refs+3 {
		t.Fatalf("clock.Refs() = %d with 3 Managers open, want %d", got, refs+3)
	}
	fake, err := New(Config{Now: time.Now}) // a fake clock takes no reference
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(ms, ms[0], fake) { // one Manager closed twice
		m.Close()
	}
	if got := clock.Refs(); got != refs {
		t.Fatalf("clock.Refs() = %d after Close, want %d", got, refs)
	}
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= goroutines })
}

func TestUnclosedManagerReleasesClock(t *testing.T) {
	refs := clock.Refs()
	func() {
		m, err := New(Config{MaxEntries: 10, MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(m)
	}()
	waitFor(t, "the cleanup of an unreachable Manager", func() bool {
		runtime.GC()
		return clock.Refs() == refs
	})
}

// waitFor polls cond for up to ten seconds; it is not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
