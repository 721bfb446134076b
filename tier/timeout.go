package tier

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
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

// TimeoutOption configures Timeout.
type TimeoutOption func(*timeoutConfig)

type timeoutConfig struct{ maxAbandoned int64 }

// WithMaxAbandoned bounds the calls that Timeout has given up on but that are
// still running inside the wrapped Manager. While n such calls are running,
// further calls fail at once with an error wrapping context.DeadlineExceeded
// and do not reach the wrapped Manager. Default DefaultMaxAbandoned, range
// [1, 65536].
func WithMaxAbandoned(n int) TimeoutOption {
	return func(c *timeoutConfig) { c.maxAbandoned = int64(min(max(n, 1), maxMaxAbandoned)) }
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
// Cost per call: one goroutine, one channel and one context timer (a few
// hundred nanoseconds and a few allocations); writes also take a mutex. A
// panic of m is raised again in the caller's goroutine, as without Timeout;
// a call given up on that panics later still crashes the program. Use
// it on remote tiers, not on an in-process front. Safe for concurrent use
// when m is.
func Timeout(m tiercache.Manager, d time.Duration, opts ...TimeoutOption) tiercache.Manager {
	nilarg.Check("tier: Timeout", "m", m)
	c := timeoutConfig{maxAbandoned: DefaultMaxAbandoned}
	for _, o := range opts {
		o(&c)
	}
	return &timeoutManager{m: m, d: max(d, MinTimeout), max: c.maxAbandoned, tails: map[string]chan struct{}{}}
}

var _ tiercache.Manager = (*timeoutManager)(nil)

type timeoutManager struct {
	m         tiercache.Manager
	d         time.Duration
	max       int64
	abandoned atomic.Int64 // calls given up on and still running

	mu    sync.Mutex
	tails map[string]chan struct{} // key -> done channel of the latest abandoned write of key
}

// result is the answer of one call of the wrapped Manager.
type result struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
	err  error

	panicked bool // the call panicked with value pv
	pv       any
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

// answer returns r, or raises the panic of the call again in the caller.
func (r result) answer() result {
	if r.panicked {
		panic(r.pv)
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
func (t *timeoutManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	r := t.run(ctx, "get", key, false, func(ctx context.Context) result {
		resp, pol, err := t.m.Get(ctx, key)
		return result{resp: resp, pol: pol, err: err}
	})
	return r.resp, r.pol, r.err
}

// Put stores resp under key and returns resp, or an error wrapping
// context.DeadlineExceeded when the wrapped Manager does not answer in time.
func (t *timeoutManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
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
func (t *timeoutManager) Delete(ctx context.Context, key string) error {
	return t.run(ctx, "delete", key, true, func(ctx context.Context) result {
		return result{err: t.m.Delete(ctx, key)}
	}).err
}

// run calls fn in a goroutine under a deadline and returns its result, or an
// error when the deadline (or the caller's context) ends first.
func (t *timeoutManager) run(ctx context.Context, op, key string, write bool, fn func(context.Context) result) result {
	if n := t.abandoned.Load(); n >= t.max {
		return result{err: fmt.Errorf("tier: timeout: %s %q: %d calls still running past their deadline: %w",
			op, key, n, context.DeadlineExceeded)}
	}
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	var prev, done chan struct{}
	if write {
		prev, done = t.tail(key), make(chan struct{})
	}
	answer := make(chan result, 1)
	var state atomic.Int32
	go func() {
		if prev != nil {
			<-prev // an earlier write of key was abandoned: keep the order
		}
		r := guarded(ctx, fn)
		if done != nil {
			close(done)
		}
		answer <- r
		if !state.CompareAndSwap(callRunning, callAnswered) {
			t.release(key, done) // the caller gave up on this call
			if r.panicked {
				panic(r.pv) // nobody is left to raise it in
			}
		}
	}()
	select {
	case r := <-answer:
		return r.answer()
	case <-ctx.Done():
	}
	t.abandon(key, done)
	if state.CompareAndSwap(callRunning, callAbandoned) {
		return result{err: fmt.Errorf("tier: timeout: %s %q: no answer (limit %v): %w", op, key, t.d, ctx.Err())}
	}
	t.release(key, done) // it answered while we were giving up: use the answer
	return (<-answer).answer()
}

// tail returns the done channel of the latest abandoned write of key, or nil.
func (t *timeoutManager) tail(key string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tails[key]
}

// abandon counts a call as abandoned and, for a write, makes it the one that
// later writes of key wait for. It runs before the call's state is decided.
func (t *timeoutManager) abandon(key string, done chan struct{}) {
	t.abandoned.Add(1)
	if done == nil {
		return
	}
	t.mu.Lock()
	t.tails[key] = done
	t.mu.Unlock()
}

// release undoes abandon once the call has finished.
func (t *timeoutManager) release(key string, done chan struct{}) {
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
