package tier

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// Limits of Timeout.
const (
	// MinTimeout is the shortest deadline Timeout accepts; shorter ones are raised to it.
	MinTimeout = time.Millisecond
	// DefaultMaxAbandoned is the default of WithMaxAbandoned.
	DefaultMaxAbandoned = 128
	maxMaxAbandoned     = 1 << 16
)

// TimeoutOption configures Timeout: WithMaxAbandoned and WithErrorHook.
type TimeoutOption interface{ applyTimeout(*timeoutConfig) }

// timeoutOption is a TimeoutOption made of a function.
type timeoutOption func(*timeoutConfig)

func (f timeoutOption) applyTimeout(c *timeoutConfig) { f(c) }

type timeoutConfig struct {
	maxAbandoned int64
	onError      func(key string, err error)
}

// WithMaxAbandoned bounds the calls that Timeout has given up on but that are
// still running inside the wrapped Manager. While n such calls are running,
// further calls fail at once with an error wrapping context.DeadlineExceeded
// and do not reach the wrapped Manager. Default DefaultMaxAbandoned, range
// [1, 65536].
func WithMaxAbandoned(n int) TimeoutOption {
	return timeoutOption(func(c *timeoutConfig) { c.maxAbandoned = int64(min(max(n, 1), maxMaxAbandoned)) })
}

// Timeout returns a Manager that bounds each call of m by d (at least
// MinTimeout): the call gets a context with that deadline on top of the
// caller's, and returns by the deadline even when m ignores its context.
// A call that does not answer in time returns an error wrapping
// context.DeadlineExceeded (context.Canceled when the caller cancelled).
//
// To return on time, each call runs m in its own goroutine and waits for its
// answer or the deadline. A call given up on keeps running in its goroutine
// until m returns (its context is done, so a Manager that honours contexts
// returns promptly). Such abandoned calls are bounded by WithMaxAbandoned:
// at the bound, calls fail fast without starting a goroutine, so a hung
// tier costs a bounded number of goroutines, never an unbounded number.
//
// Writes keep their order per key: a Put or Delete of key that starts while
// an abandoned write of key is still running waits for it (within its own
// deadline, and in its own goroutine after that). So a Delete issued after a
// Put timed out is never overtaken by the late Put, and the tier cannot
// resurrect the older value. A timed-out write may still take effect later,
// like any write that timed out over a network.
//
// A panic of m, or a runtime.Goexit, is raised again in the caller's
// goroutine, as without Timeout. In a call given up on there is no caller
// left: the panic (or Goexit) is recovered, counted in TimeoutStats.Panics
// and passed to the WithErrorHook function as a *tiercache.PanicError
// wrapping tiercache.ErrPanic. Either way the call's place among the
// abandoned calls is given back.
//
// Cost per call: one goroutine, one channel and one context timer (a few
// hundred nanoseconds and a few allocations); writes also take a mutex. Use
// it on remote tiers, not on an in-process front. Safe for concurrent use
// when m is.
func Timeout(m tiercache.Manager, d time.Duration, opts ...TimeoutOption) *TimeoutManager {
	nilarg.Check("tier: Timeout", "m", m)
	c := timeoutConfig{maxAbandoned: DefaultMaxAbandoned}
	for _, o := range opts {
		if o != nil {
			o.applyTimeout(&c)
		}
	}
	return &TimeoutManager{m: m, d: max(d, MinTimeout), max: c.maxAbandoned, onError: c.onError,
		tails: map[string]chan struct{}{}}
}

var _ tiercache.Manager = (*TimeoutManager)(nil)

// TimeoutManager bounds the calls of a tier with a deadline; see Timeout. It
// implements tiercache.Manager and is safe for concurrent use when the
// wrapped Manager is.
type TimeoutManager struct {
	m         tiercache.Manager
	d         time.Duration
	max       int64
	onError   func(key string, err error)
	abandoned atomic.Int64  // calls given up on and still running
	timedOut  atomic.Uint64 // calls given up on, ever
	panics    atomic.Uint64 // panics and Goexits of calls given up on

	mu    sync.Mutex
	tails map[string]chan struct{} // key -> done channel of the latest abandoned write of key
}

// TimeoutStats is a snapshot of a TimeoutManager's counters.
type TimeoutStats struct {
	Timeouts  uint64 // calls that did not answer in time (or whose caller cancelled)
	Panics    uint64 // panics and runtime.Goexit calls of calls given up on, recovered
	Abandoned int64  // calls given up on and still running in the wrapped Manager (a gauge)
}

// Stats returns a snapshot of the counters: three atomic loads.
func (t *TimeoutManager) Stats() TimeoutStats {
	return TimeoutStats{Timeouts: t.timedOut.Load(), Panics: t.panics.Load(), Abandoned: t.abandoned.Load()}
}

// result is the answer of one call of the wrapped Manager.
type result struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
	err  error

	panicked bool // the call panicked with value pv
	pv       any
	goexit   bool // the call ended in runtime.Goexit
}

// guarded runs fn and turns a panic into a result, so that run can raise it
// again in the caller's goroutine.
func guarded(ctx context.Context, fn func(context.Context) result) (r result) {
	defer func() {
		if v := recover(); v != nil {
			r = result{panicked: true, pv: v}
		}
	}()
	return fn(ctx)
}

// answer returns r, or raises the panic or Goexit of the call again in the
// caller.
func (r result) answer() result {
	if r.panicked {
		panic(r.pv)
	}
	if r.goexit {
		runtime.Goexit()
	}
	return r
}

// States of one call, decided by a compare-and-swap between the caller and
// the goroutine running the call.
const (
	callRunning int32 = iota
	callAnswered
	callAbandoned
)

// Get returns what the wrapped Manager holds under key, or an error wrapping
// context.DeadlineExceeded when it does not answer in time.
func (t *TimeoutManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	r := t.run(ctx, "get", key, false, func(ctx context.Context) result {
		resp, pol, err := t.m.Get(ctx, key)
		return result{resp: resp, pol: pol, err: err}
	})
	return r.resp, r.pol, r.err
}

// Put stores resp under key and returns resp, or an error wrapping
// context.DeadlineExceeded when the wrapped Manager does not answer in time.
func (t *TimeoutManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	r := t.run(ctx, "put", key, true, func(ctx context.Context) result {
		got, err := t.m.Put(ctx, key, resp, pol)
		return result{resp: got, err: err}
	})
	return r.resp, r.err
}

// Delete removes key, or returns an error wrapping context.DeadlineExceeded
// when the wrapped Manager does not answer in time.
func (t *TimeoutManager) Delete(ctx context.Context, key string) error {
	return t.run(ctx, "delete", key, true, func(ctx context.Context) result {
		return result{err: t.m.Delete(ctx, key)}
	}).err
}

// run calls fn in a goroutine under a deadline and returns its result, or an
// error when the deadline (or the caller's context) ends first.
func (t *TimeoutManager) run(ctx context.Context, op, key string, write bool, fn func(context.Context) result) result {
	if n := t.abandoned.Load(); n >= t.max {
		return result{err: fmt.Errorf("tier: timeout: %s %s: %d calls still running past their deadline: %w",
			op, keyfmt.Quote(key), n, context.DeadlineExceeded)}
	}
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	var prev, done chan struct{}
	if write {
		prev, done = t.tail(key), make(chan struct{})
	}
	answer := make(chan result, 1)
	var state atomic.Int32
	go t.call(ctx, op, key, prev, done, answer, &state, fn)
	select {
	case r := <-answer:
		return r.answer()
	case <-ctx.Done():
	}
	t.abandon(key, done)
	if state.CompareAndSwap(callRunning, callAbandoned) {
		t.timedOut.Add(1)
		return result{err: fmt.Errorf("tier: timeout: %s %s: no answer (limit %v): %w", op, keyfmt.Quote(key), t.d, ctx.Err())}
	}
	t.release(key, done) // it answered while we were giving up: use the answer
	return (<-answer).answer()
}

// call is the goroutine of one call. Its deferred function answers however
// fn ends (a return, a panic, a runtime.Goexit), so a call given up on always
// gives its place back; with no caller left, a panic or Goexit goes to the
// error hook.
func (t *TimeoutManager) call(ctx context.Context, op, key string, prev, done chan struct{},
	answer chan<- result, state *atomic.Int32, fn func(context.Context) result) {
	var r result
	returned := false
	defer func() {
		if !returned {
			r = result{goexit: true}
		}
		if done != nil {
			close(done)
		}
		answer <- r
		if state.CompareAndSwap(callRunning, callAnswered) {
			return // the caller takes the answer
		}
		t.release(key, done) // the caller gave up on this call
		if r.panicked || r.goexit {
			t.orphanPanic(op, key, r)
		}
	}()
	if prev != nil {
		<-prev // an earlier write of key was abandoned: keep the order
	}
	r = guarded(ctx, fn)
	returned = true
}

// orphanPanic counts and reports the panic or Goexit of a call given up on.
func (t *TimeoutManager) orphanPanic(op, key string, r result) {
	t.panics.Add(1)
	v := r.pv
	if r.goexit {
		v = "runtime.Goexit"
	}
	err := fmt.Errorf("tier: timeout: %s %s after its deadline: %w", op, keyfmt.Quote(key),
		tiercache.NewPanicError("tier timeout "+op, v))
	if callHook(t.onError, key, err) {
		t.panics.Add(1)
	}
}

// tail returns the done channel of the latest abandoned write of key, or nil.
func (t *TimeoutManager) tail(key string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tails[key]
}

// abandon counts a call as abandoned and, for a write, makes it the one that
// later writes of key wait for. It runs before the call's state is decided.
func (t *TimeoutManager) abandon(key string, done chan struct{}) {
	t.abandoned.Add(1)
	if done == nil {
		return
	}
	t.mu.Lock()
	t.tails[key] = done
	t.mu.Unlock()
}

// release undoes abandon once the call has finished.
func (t *TimeoutManager) release(key string, done chan struct{}) {
	t.abandoned.Add(-1)
	if done == nil {
		return
	}
	t.mu.Lock()
	if t.tails[key] == done {
		delete(t.tails, key)
	}
	t.mu.Unlock()
}
