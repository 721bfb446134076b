package tier_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

func flush(t *testing.T, w *tier.WriteBackManager) {
	t.Helper()
	returnsWithin(t, "Flush", func() {
		if err := w.Flush(context.Background()); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})
}

func TestWriteBackReadYourWrites(t *testing.T) {
	f := newFake()
	release := f.block(t, false, "put")
	w := closing(t, tier.WriteBack(f))
	v := resp("v")
	tiercachetest.MustPut(t, w, "k", v, fresh())
	tiercachetest.MustGet(t, w, "k", v) // from the queue
	tiercachetest.MustGet(t, f, "k", nil)
	release()
	flush(t, w)
	tiercachetest.MustGet(t, f, "k", v)
	tiercachetest.MustGet(t, w, "k", v) // from the tier
}

func TestWriteBackDeleteTombstone(t *testing.T) {
	f := newFake()
	tiercachetest.MustPut(t, f, "k", resp("old"), fresh())
	release := f.block(t, false, "delete")
	w := closing(t, tier.WriteBack(f))
	if err := w.Delete(context.Background(), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	tiercachetest.MustGet(t, w, "k", nil)
	tiercachetest.MustGet(t, f, "k", resp("old"))
	release()
	flush(t, w)
	tiercachetest.MustGet(t, f, "k", nil)
}

// TestWriteBackCoalesces also checks the sequence check: writes that arrive
// while a key is being written are written after it, not lost.
func TestWriteBackCoalesces(t *testing.T) {
	f := newFake()
	release := f.block(t, false, "put")
	w := closing(t, tier.WriteBack(f, tier.WithWorkers(1)))
	tiercachetest.MustPut(t, w, "k1", resp("v1"), fresh())
	waitFor(t, "the first write to start", func() bool { return f.puts.Load() == 1 })
	for _, seed := range []string{"v2", "v3"} {
		tiercachetest.MustPut(t, w, "k1", resp(seed), fresh()) // while k1 is being written
	}
	for _, seed := range []string{"a", "b", "c"} {
		tiercachetest.MustPut(t, w, "k2", resp(seed), fresh()) // while k2 waits
	}
	tiercachetest.MustGet(t, w, "k1", resp("v3"))
	release()
	flush(t, w)
	tiercachetest.MustGet(t, f, "k1", resp("v3"))
	tiercachetest.MustGet(t, f, "k2", resp("c"))
	if n := f.puts.Load(); n != 3 {
		t.Fatalf("the tier saw %d Puts, want 3 (v1, v3, c)", n)
	}
	want := tier.WriteBackStats{Queued: 6, Coalesced: 4, Written: 3}
	if got := w.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

func TestWriteBackCloseFlushesAll(t *testing.T) {
	f := newFake()
	w := tier.WriteBack(f, tier.WithQueueSize(4), tier.WithWorkers(2))
	ctx := context.Background()
	var want []string
	for i := range 100 {
		key := fmt.Sprintf("k%03d", i)
		tiercachetest.MustPut(t, w, key, resp(key), fresh())
		want = append(want, key)
	}
	tiercachetest.MustPut(t, w, "gone", resp("gone"), fresh())
	if err := w.Delete(ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	returnsWithin(t, "Close", func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if got := f.keys(); !slices.Equal(got, want) {
		t.Fatalf("after Close the tier holds %d keys, want %d", len(got), len(want))
	}
	for _, op := range []string{"get", "put", "delete"} {
		if err := call(ctx, w, op, "k000"); !errors.Is(err, tiercache.ErrClosed) {
			t.Errorf("%s after Close: error = %v, want ErrClosed", op, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// fullQueue returns a WriteBack with a queue of one, held full by a write of
// "k1" that the tier blocks until release.
func fullQueue(t *testing.T) (*tier.WriteBackManager, *fakeManager, func()) {
	t.Helper()
	f := newFake()
	release := f.block(t, false, "put")
	w := closing(t, tier.WriteBack(f, tier.WithQueueSize(1), tier.WithWorkers(1)))
	tiercachetest.MustPut(t, w, "k1", resp("k1"), fresh())
	waitFor(t, "the write of k1 to start", func() bool { return f.puts.Load() == 1 })
	return w, f, release
}

func TestWriteBackQueueFull(t *testing.T) {
	w, f, release := fullQueue(t)
	tiercachetest.MustPut(t, w, "k1", resp("k1b"), fresh()) // a pending key needs no room
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Put(ctx, "k2", resp("k2"), fresh()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put into a full queue with a cancelled context: error = %v, want context.Canceled", err)
	}
	tiercachetest.MustGet(t, w, "k2", nil) // refused, not queued
	blocked := make(chan error, 1)
	go func() { _, err := w.Put(context.Background(), "k2", resp("k2"), fresh()); blocked <- err }()
	release()
	returnsWithin(t, "the blocked Put", func() {
		if err := <-blocked; err != nil {
			t.Errorf("blocked Put: %v", err)
		}
	})
	flush(t, w)
	if got, want := f.keys(), []string{"k1", "k2"}; !slices.Equal(got, want) {
		t.Fatalf("tier holds %q, want %q", got, want)
	}
	tiercachetest.MustGet(t, f, "k1", resp("k1b"))
}

func TestWriteBackCloseWakesBlockedPut(t *testing.T) {
	w, f, release := fullQueue(t)
	blocked := make(chan error, 1)
	go func() { blocked <- w.Delete(context.Background(), "k2") }()
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	returnsWithin(t, "the blocked Delete", func() {
		if err := <-blocked; !errors.Is(err, tiercache.ErrClosed) {
			t.Errorf("blocked Delete: error = %v, want ErrClosed", err)
		}
	})
	release()
	returnsWithin(t, "Close", func() { <-closed })
	tiercachetest.MustGet(t, f, "k1", resp("k1")) // queued before Close: written
}

func TestWriteBackErrorHook(t *testing.T) {
	cases := []struct {
		name    string
		failing []string
		want    []string // keys left in the tier
	}{
		{"PutFailsOlderValueRemoved", []string{"put"}, nil},
		{"PutAndDeleteFail", []string{"put", "delete"}, []string{"k"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tiercachetest.MustPut(t, f, "k", resp("older"), fresh())
			f.setErr(errTier, tc.failing...)
			var mu sync.Mutex
			var reported []string
			w := closing(t, tier.WriteBack(f, tier.WithErrorHook(func(key string, err error) {
				mu.Lock()
				defer mu.Unlock()
				if !errors.Is(err, errTier) {
					t.Errorf("hook error = %v, want the tier's error", err)
				}
				reported = append(reported, key)
			})))
			tiercachetest.MustPut(t, w, "k", resp("new"), fresh())
			flush(t, w)
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(reported, []string{"k"}) {
				t.Fatalf("hook saw %q, want [k]", reported)
			}
			if s := w.Stats(); s.Errors != 1 || s.Written != 0 {
				t.Fatalf("Stats = %+v, want 1 error, 0 written", s)
			}
			if got := f.keys(); !slices.Equal(got, tc.want) {
				t.Fatalf("tier holds %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteBackFlushHonoursContext(t *testing.T) {
	f := newFake()
	release := f.block(t, false, "put")
	defer release() // before the cleanup's Close, which waits for the write
	w := closing(t, tier.WriteBack(f))
	tiercachetest.MustPut(t, w, "k", resp("k"), fresh())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush error = %v, want context.Canceled", err)
	}
}

// TestWriteBackConcurrent has goroutines write, read and delete their own
// keys through a small queue; each must read its own writes, and after Close
// the tier must hold exactly the last write of every key.
func TestWriteBackConcurrent(t *testing.T) {
	f := newFake()
	w := tier.WriteBack(f, tier.WithQueueSize(4), tier.WithWorkers(3))
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				key := fmt.Sprintf("g%d-%d", g, i%4)
				v := resp(fmt.Sprintf("%s-%d", key, i))
				if _, err := w.Put(ctx, key, v, fresh()); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				if got, _, err := w.Get(ctx, key); err != nil || !tiercachetest.Equal(got, v) {
					t.Errorf("Get(%q) after Put: %v, %v", key, got, err)
					return
				}
				if i%5 == 0 {
					if err := w.Delete(ctx, key); err != nil {
						t.Errorf("Delete: %v", err)
						return
					}
					if got, _, err := w.Get(ctx, key); err != nil || got != nil {
						t.Errorf("Get(%q) after Delete: %v, %v", key, got, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// i = 56..59 are the last writes of each key; 56 % 5 != 0 ... 59 % 5 != 0.
	for g := range 8 {
		for i := 56; i < 60; i++ {
			key := fmt.Sprintf("g%d-%d", g, i%4)
			tiercachetest.MustGet(t, f, key, resp(fmt.Sprintf("%s-%d", key, i)))
		}
	}
}

// TestWriteBackSharedKeys races writers of the same keys through a queue of
// one; a final write of each key must be what the tier holds after Close.
func TestWriteBackSharedKeys(t *testing.T) {
	f := newFake()
	w := tier.WriteBack(f, tier.WithQueueSize(1), tier.WithWorkers(4))
	ctx := context.Background()
	keys := []string{"a", "b"}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 40 {
				key := keys[(g+i)%len(keys)]
				var err error
				if i%3 == 0 {
					err = w.Delete(ctx, key)
				} else {
					_, err = w.Put(ctx, key, resp(fmt.Sprintf("%d-%d", g, i)), fresh())
				}
				if err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, key := range keys {
		tiercachetest.MustPut(t, w, key, resp("final-"+key), fresh())
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, key := range keys {
		tiercachetest.MustGet(t, f, key, resp("final-"+key))
	}
}

func TestWriteBackFlushTimeout(t *testing.T) {
	f := newFake()
	release := f.block(t, false, "put")
	defer release()
	errs := make(chan error, 1)
	w := closing(t, tier.WriteBack(f, tier.WithFlushTimeout(0), // clamped to 1 ms
		tier.WithErrorHook(func(_ string, err error) { errs <- err })))
	tiercachetest.MustPut(t, w, "k", resp("k"), fresh())
	returnsWithin(t, "the timed-out write", func() {
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("hook error = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestWriteBackMaxDelay: with WithMaxDelay(d), no write is accepted while
// the oldest queued one has waited d or longer (a new key or a coalesced
// one), so the writes a crash can lose span less than d; once the old write
// is made, writes are accepted again. Without the option the same write is
// accepted at once (the queue has room).
func TestWriteBackMaxDelay(t *testing.T) {
	const d = 20 * time.Millisecond
	for _, tc := range []struct {
		name     string
		opts     []tier.WriteBackOption
		key      string
		accepted bool
	}{
		{"new key waits", []tier.WriteBackOption{tier.WithMaxDelay(d)}, "k2", false},
		{"coalesced key waits", []tier.WriteBackOption{tier.WithMaxDelay(d)}, "k1", false},
		{"no bound in time", nil, "k2", true},
		{"zero means none", []tier.WriteBackOption{tier.WithMaxDelay(0)}, "k2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			release := f.block(t, false, "put")
			w := closing(t, tier.WriteBack(f, append(tc.opts, tier.WithQueueSize(100), tier.WithWorkers(1))...))
			tiercachetest.MustPut(t, w, "k1", resp("v1"), fresh())
			time.Sleep(2 * d) // k1 is now older than d (its write is held)
			ctx, cancel := context.WithTimeout(context.Background(), 5*d)
			defer cancel()
			_, err := w.Put(ctx, tc.key, resp("v2"), fresh())
			if tc.accepted {
				release() // before the cleanup's Close, which waits for the writes
				if err != nil {
					t.Fatalf("Put: %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Put while the oldest write is older than d: %v, want it to wait (DeadlineExceeded)", err)
			}
			tiercachetest.MustGet(t, w, tc.key, map[string]*tiercache.Response{"k1": resp("v1")}[tc.key])
			release()
			returnsWithin(t, "Put after the old write was made", func() {
				tiercachetest.MustPut(t, w, tc.key, resp("v2"), fresh())
			})
			flush(t, w)
			tiercachetest.MustGet(t, f, tc.key, resp("v2"))
		})
	}
}

// TestWriteBackMaxDelayUnblocksOnClose: a write waiting for old writes
// returns ErrClosed when Close is called.
func TestWriteBackMaxDelayUnblocksOnClose(t *testing.T) {
	f := newFake()
	release := f.block(t, false, "put")
	w := tier.WriteBack(f, tier.WithMaxDelay(time.Millisecond))
	tiercachetest.MustPut(t, w, "k1", resp("v1"), fresh())
	time.Sleep(5 * time.Millisecond)
	errc := make(chan error, 1)
	go func() { _, err := w.Put(context.Background(), "k2", resp("v2"), fresh()); errc <- err }()
	closed := make(chan struct{})
	go func() { _ = w.Close(); close(closed) }()
	returnsWithin(t, "the waiting Put", func() {
		if err := <-errc; !errors.Is(err, tiercache.ErrClosed) {
			t.Errorf("Put = %v, want ErrClosed", err)
		}
	})
	release()
	returnsWithin(t, "Close", func() { <-closed })
}
