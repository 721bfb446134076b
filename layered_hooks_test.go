package tiercache_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// deadlockBound bounds a call that must not block; it only turns a deadlock
// into a failure instead of a hung test binary, and is not a timing claim.
const deadlockBound = 5 * time.Second

// TestLayeredHookCallsBack: an error hook may call back into the Layered,
// even for the key whose Get reported the error. A hook called while the
// key's flight is still open would make that Get wait for itself.
func TestLayeredHookCallsBack(t *testing.T) {
	tests := []struct {
		name   string
		tiers  int
		strict bool
		fail   func(f []*tierFake) // makes one tier fail
	}{
		{"lower get error", 3, false, func(f []*tierFake) { f[1].setErrors(errTierBoom, nil, nil) }},
		{"lower get error strict", 3, true, func(f []*tierFake) { f[1].setErrors(errTierBoom, nil, nil) }},
		{"promotion error", 2, false, func(f []*tierFake) { f[0].setErrors(nil, errTierBoom, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				l     *tiercache.Layered
				first atomic.Bool
				inner = make(chan error, 1)
			)
			hook := func(_ int, _, key string, _ error) {
				if !first.CompareAndSwap(false, true) {
					return // the hook's own Get fails again
				}
				ctx, cancel := context.WithTimeout(lctx, deadlockBound)
				defer cancel()
				_, _, err := l.Get(ctx, key)
				inner <- err
			}
			var fakes []*tierFake
			l, fakes, _ = newFakeStack(t, tc.tiers, tiercache.WithErrorHook(hook), tiercache.WithFailOnError(tc.strict))
			fakes[tc.tiers-1].set("k", tiercachetest.Response("v", 8), hourPolicy())
			tc.fail(fakes)
			_, _, _ = l.Get(lctx, "k")
			select {
			case err := <-inner:
				if err != nil && !errors.Is(err, errTierBoom) {
					t.Fatalf("Get from the hook = %v: it waited for the Get that called the hook", err)
				}
			default:
				t.Fatal("hook not called")
			}
		})
	}
}

// ctxTier is a Manager whose first Get waits at a gate and then answers
// like a tier that honours its context: with ctx.Err() once it has ended.
type ctxTier struct {
	*tierFake
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (c *ctxTier) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	c.once.Do(func() {
		close(c.entered)
		<-c.release
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return c.tierFake.Get(ctx, key)
}

// TestLayeredLeaderCancelled: a Get that shares the read of another Get
// whose context is cancelled during the read must not inherit that
// cancellation as a miss (fail-open) or as an error (strict): its own
// context is live.
func TestLayeredLeaderCancelled(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "fail-open", true: "strict"}[strict], func(t *testing.T) {
			front := newTierFake(0, nil)
			lower := &ctxTier{tierFake: newTierFake(1, nil), entered: make(chan struct{}), release: make(chan struct{})}
			want := tiercachetest.Response("v", 8)
			lower.set("k", want, hourPolicy())
			l := tiercache.NewLayered([]tiercache.Manager{front, lower}, tiercache.WithFailOnError(strict))
			defer l.Close()

			leaderCtx, cancel := context.WithCancel(lctx)
			leader := make(chan error, 1)
			go func() {
				_, _, err := l.Get(leaderCtx, "k")
				leader <- err
			}()
			<-lower.entered
			type got struct {
				resp *tiercache.Response
				err  error
			}
			waiter := make(chan got, 1)
			go func() {
				resp, _, err := l.Get(lctx, "k")
				waiter <- got{resp, err}
			}()
			waitUntil(func() bool { return front.gets.Load() >= 3 }) // both lookups and the leader's re-check
			cancel()
			close(lower.release)
			<-leader
			if g := <-waiter; g.err != nil || g.resp != want {
				t.Fatalf("waiter Get = %q, %v; want the stored value: another caller's cancellation leaked into it", seedOf(g.resp), g.err)
			}
		})
	}
}

// TestLayeredCloseWaitsForDrain: every Close returns only once the queued
// promotions are written, also a Close that finds another Close draining.
// (Tiers are typically closed right after: a promotion written later
// would meet a closed tier.)
func TestLayeredCloseWaitsForDrain(t *testing.T) {
	front, lower := newTierFake(0, nil), newTierFake(1, nil)
	g := newHoldGate()
	front.onPut = g.wait
	l := tiercache.NewLayered([]tiercache.Manager{front, lower}, tiercache.WithAsyncPromotion(4))
	want := tiercachetest.Response("a", 8)
	lower.set("a", want, hourPolicy())
	tiercachetest.MustGet(t, l, "a", want)
	<-g.entered // the worker is writing a's promotion
	firstDone := make(chan struct{})
	go func() {
		_ = l.Close()
		close(firstDone)
	}()
	waitUntil(func() bool { _, _, err := l.Get(lctx, "a"); return err != nil }) // the first Close has begun
	go func() {
		for range 100 {
			runtime.Gosched()
		}
		close(g.release)
	}()
	_ = l.Close()
	if got := front.entry("a").resp; got != want {
		t.Errorf("second Close returned before the queued promotion was written")
	}
	<-firstDone
}

// TestLayeredNilTierIndices: with a nil entry left out, names stay with
// their tiers and indices count the remaining tiers (hook, TierError, stats).
func TestLayeredNilTierIndices(t *testing.T) {
	a, b := newTierFake(0, nil), newTierFake(1, nil)
	var hook tierHookCalls
	l := tiercache.NewLayered([]tiercache.Manager{nil, a, b},
		tiercache.WithTierNames("none", "a", "b"), tiercache.WithErrorHook(hook.hook), tiercache.WithFailOnError(true))
	defer l.Close()
	b.setErrors(errTierBoom, nil, nil)
	_, _, err := l.Get(lctx, "k")
	var te *tiercache.TierError
	if !errors.As(err, &te) || te.Tier != 1 || te.Name != "b" {
		t.Fatalf("Get error = %v, want tier 1 (b)", err)
	}
	if want := "1 get k: boom"; hook.String() != want {
		t.Errorf("hook calls %q, want %q", hook.String(), want)
	}
	if st := l.Stats(); st.Tiers[0].Name != "a" || st.Tiers[1].Name != "b" || st.Tiers[1].Errors != 1 {
		t.Errorf("stats names %q, %q, tier 1 errors %d", st.Tiers[0].Name, st.Tiers[1].Name, st.Tiers[1].Errors)
	}
}
