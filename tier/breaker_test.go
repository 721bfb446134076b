package tier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

// fakeClock is a manual clock for Breaker cool-downs.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newBreaker returns a breaker with threshold 3 and cool-down 1 s on a fake
// clock over a fresh fake tier.
func newBreaker(t *testing.T) (*tier.BreakerManager, *fakeManager, *fakeClock) {
	t.Helper()
	f, c := newFake(), newClock()
	return tier.Breaker(f, tier.WithThreshold(3), tier.WithCooldown(time.Second), tier.WithClock(c.Now)), f, c
}

func wantState(t *testing.T, b *tier.BreakerManager, want tier.BreakerState) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("state = %v, want %v", got, want)
	}
}

// trip makes b's tier fail until the circuit opens.
func trip(t *testing.T, b *tier.BreakerManager, f *fakeManager) {
	t.Helper()
	f.setErr(errTier)
	for i := range 3 {
		wantState(t, b, tier.BreakerClosed)
		if _, _, err := b.Get(context.Background(), "k"); !errors.Is(err, errTier) {
			t.Fatalf("Get %d error = %v, want the tier's error", i, err)
		}
	}
	wantState(t, b, tier.BreakerOpen)
}

func TestBreakerOpensAndFailsFast(t *testing.T) {
	b, f, c := newBreaker(t)
	trip(t, b, f)
	before := f.calls()
	c.advance(time.Second - time.Nanosecond)
	for _, op := range []string{"get", "put", "delete"} {
		if err := call(context.Background(), b, op, "k"); !errors.Is(err, tier.ErrOpen) {
			t.Fatalf("%s while open: error = %v, want ErrOpen", op, err)
		}
	}
	if n := f.calls() - before; n != 0 {
		t.Fatalf("%d calls reached the tier while the circuit was open", n)
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	cases := []struct {
		name  string
		err   error // the trial's outcome
		state tier.BreakerState
	}{
		{"SuccessCloses", nil, tier.BreakerClosed},
		{"FailureReopens", errTier, tier.BreakerOpen},
		{"DeadlineReopens", context.DeadlineExceeded, tier.BreakerOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, f, c := newBreaker(t)
			trip(t, b, f)
			c.advance(time.Second)
			f.setErr(tc.err)
			if _, _, err := b.Get(context.Background(), "k"); !errors.Is(err, tc.err) {
				t.Fatalf("trial error = %v, want %v", err, tc.err)
			}
			wantState(t, b, tc.state)
			before := f.calls()
			_ = call(context.Background(), b, "get", "k")
			if reached := f.calls() > before; reached != (tc.state == tier.BreakerClosed) {
				t.Fatalf("call after the trial reached the tier: %v", reached)
			}
		})
	}
}

func TestBreakerOneTrialAtATime(t *testing.T) {
	b, f, c := newBreaker(t)
	trip(t, b, f)
	f.setErr(nil)
	release := f.block(t, false, "get")
	c.advance(time.Second)
	trial := make(chan error, 1)
	go func() { _, _, err := b.Get(context.Background(), "k"); trial <- err }()
	waitFor(t, "the trial to reach the tier", func() bool { return b.State() == tier.BreakerHalfOpen })
	if err := call(context.Background(), b, "put", "k"); !errors.Is(err, tier.ErrOpen) {
		t.Fatalf("call during the trial: error = %v, want ErrOpen", err)
	}
	release()
	if err := <-trial; err != nil {
		t.Fatalf("trial: %v", err)
	}
	wantState(t, b, tier.BreakerClosed)
}

func TestBreakerStuckTrialIsReplaced(t *testing.T) {
	b, f, c := newBreaker(t)
	trip(t, b, f)
	f.setErr(nil)
	release := f.block(t, true, "get")
	c.advance(time.Second)
	stuck := make(chan error, 1)
	go func() { _, _, err := b.Get(context.Background(), "k"); stuck <- err }()
	waitFor(t, "the trial to reach the tier", func() bool { return f.gets.Load() == 4 })
	if err := call(context.Background(), b, "delete", "k"); !errors.Is(err, tier.ErrOpen) {
		t.Fatalf("call during the trial: error = %v, want ErrOpen", err)
	}
	c.advance(time.Second) // the trial is given up; the next call is a new trial
	f.setErr(errTier, "delete")
	if err := call(context.Background(), b, "delete", "k"); !errors.Is(err, errTier) {
		t.Fatalf("second trial: error = %v, want the tier's error", err)
	}
	wantState(t, b, tier.BreakerOpen)
	release()
	if err := <-stuck; err != nil {
		t.Fatalf("stuck trial: %v", err)
	}
	wantState(t, b, tier.BreakerOpen) // its late success does not close the circuit
}

func TestBreakerWhatCounts(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		state tier.BreakerState
	}{
		{"TierError", errTier, tier.BreakerOpen},
		{"Deadline", context.DeadlineExceeded, tier.BreakerOpen},
		{"CallerCancelled", context.Canceled, tier.BreakerClosed},
		{"Miss", nil, tier.BreakerClosed},
		{"Closed", tiercache.ErrClosed, tier.BreakerOpen},
		// An entry's or an argument's fault, not the tier's.
		{"CorruptEntry", fmt.Errorf("decode: %w", tiercache.ErrCorrupt), tier.BreakerClosed},
		{"InvalidArgument", tiercache.ErrInvalid, tier.BreakerClosed},
		{"EntryTooLarge", tiercache.ErrTooLarge, tier.BreakerClosed},
		{"NewerVersion", tiercache.ErrVersion, tier.BreakerClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, f, _ := newBreaker(t)
			f.setErr(tc.err)
			for range 5 {
				_, _, _ = b.Get(context.Background(), "absent")
			}
			wantState(t, b, tc.state)
		})
	}
}

func TestBreakerSuccessResetsCount(t *testing.T) {
	b, f, _ := newBreaker(t)
	ctx := context.Background()
	for range 3 {
		f.setErr(errTier)
		_ = b.Delete(ctx, "k")
		_ = b.Delete(ctx, "k")
		f.setErr(nil)
		_ = b.Delete(ctx, "k")
	}
	wantState(t, b, tier.BreakerClosed)
}

func TestBreakerClampsOptions(t *testing.T) {
	f := newFake()
	b := tier.Breaker(f, tier.WithThreshold(-4), tier.WithCooldown(-time.Hour), tier.WithClock(nil))
	f.setErr(errTier)
	_, _, _ = b.Get(context.Background(), "k")
	wantState(t, b, tier.BreakerOpen) // threshold clamped to 1
	waitFor(t, "the 1 ms minimum cool-down", func() bool {
		_, _, err := b.Get(context.Background(), "k")
		return !errors.Is(err, tier.ErrOpen)
	})
}

func TestBreakerStateString(t *testing.T) {
	for s, want := range map[tier.BreakerState]string{
		tier.BreakerClosed: "closed", tier.BreakerOpen: "open", tier.BreakerHalfOpen: "half-open", 7: "BreakerState(7)",
	} {
		if got := s.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// A call allowed before the circuit opened that fails after the circuit has
// closed again must not re-open it: it says nothing about the tier since.
func TestBreakerIgnoresLateFailureFromEarlierEpoch(t *testing.T) {
	f, c := newFake(), newClock()
	b := tier.Breaker(f, tier.WithThreshold(1), tier.WithCooldown(time.Second), tier.WithClock(c.Now))
	ctx := context.Background()
	f.setErr(errTier, "delete")
	release := f.block(t, true, "delete")
	done := make(chan error, 1)
	go func() { done <- b.Delete(ctx, "slow") }()
	for deadline := time.Now().Add(5 * time.Second); f.deletes.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the slow Delete never reached the tier")
		}
		time.Sleep(time.Millisecond)
	}
	f.setErr(errTier, "get")
	if _, _, err := b.Get(ctx, "k"); !errors.Is(err, errTier) {
		t.Fatalf("Get error = %v, want the tier's error", err)
	}
	wantState(t, b, tier.BreakerOpen)
	c.advance(2 * time.Second)
	f.setErr(nil, "get")
	if _, _, err := b.Get(ctx, "k"); err != nil {
		t.Fatalf("trial Get: %v", err)
	}
	wantState(t, b, tier.BreakerClosed)
	release()
	if err := <-done; !errors.Is(err, errTier) {
		t.Fatalf("slow Delete error = %v, want the tier's error", err)
	}
	wantState(t, b, tier.BreakerClosed)
}

// TestBreakerCorruptEntriesDoNotOpen (issue 13, item 6): five Gets of
// damaged entries in a row used to open the breaker, and healthy keys then
// got ErrOpen. A damaged entry says nothing about the tier.
func TestBreakerCorruptEntriesDoNotOpen(t *testing.T) {
	b, f, _ := newBreaker(t)
	f.setErr(fmt.Errorf("entry damaged: %w", tiercache.ErrCorrupt), "get")
	for range 2 * tier.DefaultThreshold {
		_, _, _ = b.Get(context.Background(), "damaged")
	}
	wantState(t, b, tier.BreakerClosed)
	f.setErr(nil)
	tiercachetest.MustPut(t, b, "healthy", resp("v"), fresh())
	tiercachetest.MustGet(t, b, "healthy", resp("v"))
}
