package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// Sentinel errors. Every error of this package wraps one of these or a
// tiercache sentinel (ErrInvalid, ErrTooLarge, ErrClosed, ErrCorrupt) or,
// when the caller's context ended first, the context's error; the cause
// from go-redis is wrapped too. Match with errors.Is.
var (
	// ErrUnavailable reports a server that could not be reached: a refused
	// or failed dial, a connection closed or reset mid-call, an exhausted
	// connection pool, a closed client.
	ErrUnavailable = errors.New("redis: server unavailable")
	// ErrTimeout reports a call that got no answer within Config.Timeout.
	ErrTimeout = errors.New("redis: timeout")
	// ErrServer reports an error reply of the server (OOM, READONLY,
	// CLUSTERDOWN, LOADING, NOAUTH, WRONGTYPE, ...).
	ErrServer = errors.New("redis: server error")
)

// caller runs commands on a client within a timeout, classifies their
// errors and tracks whether the server is reachable. Store and Bus each
// have one.
//
// Timeouts: go-redis applies a context's deadline to socket reads and
// writes only when the client has ContextTimeoutEnabled; otherwise it uses
// its own ReadTimeout and WriteTimeout (5 s by default) and the context
// only while it waits for a connection, dials or backs off between retries.
// With ContextTimeoutEnabled (direct), a call runs in the caller's
// goroutine under a context that ends after the timeout: a
// context.WithTimeout (a timer per call, about 1 µs on a small VM), or,
// when the client neither retries commands nor re-dials (MaxRetries -1,
// DialerRetries 1), where no sleep is left for a timer to cut short, a
// context that only carries the deadline (see deadlineCtx). Without it
// (detached), a call runs in a goroutine that the caller stops waiting for
// after the timeout; the abandoned command ends within the client's own
// timeouts, and its context is cancelled so that it does not start late
// if it is still waiting for a connection.
type caller struct {
	client    goredis.UniversalClient
	timeout   time.Duration
	detached  bool
	timerless bool // direct calls need no timer (see timerless)
	log       *ratelog.Logger
	what      string // "store" or "bus", in log messages

	down                       atomic.Bool // the last failing call could not reach the server
	errors, timeouts           atomic.Uint64
	losses, recoveries, panics atomic.Uint64
}

func newCaller(c goredis.UniversalClient, timeout time.Duration, l *slog.Logger, what string) *caller {
	return &caller{client: c, timeout: timeout, detached: !contextAware(c), timerless: timerless(c),
		log: ratelog.New(l, 0), what: what}
}

// timerless reports whether a deadline alone bounds every wait of a call
// on c: a standalone or Sentinel client that applies context deadlines to
// dials and sockets, and neither retries a command (MaxRetries -1) nor
// dials again after a pause (DialerRetries 1), the pauses being the only
// waits that watch the context's Done channel rather than its deadline.
// A wait for a free connection of a full pool (PoolTimeout) ends when a
// call holding one reaches its own, earlier, deadline.
func timerless(c goredis.UniversalClient) bool {
	cl, ok := c.(*goredis.Client)
	if !ok {
		return false
	}
	o := cl.Options()
	return o.ContextTimeoutEnabled && o.MaxRetries == 0 && o.DialerRetries == 1
}

// contextAware reports whether go-redis applies context deadlines to the
// socket reads and writes of c.
func contextAware(c goredis.UniversalClient) bool {
	switch c := c.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *goredis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// bound returns ctx limited to the timeout, unless it ends sooner anyway.
func (c *caller) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.timeout {
		return ctx, noCancel
	}
	if c.timerless && !c.detached {
		return &deadlineCtx{ctx, time.Now().Add(c.timeout)}, noCancel
	}
	return context.WithTimeout(ctx, c.timeout)
}

func noCancel() {}

// deadlineCtx is a context whose deadline is d (earlier than its
// parent's) without a timer: Deadline reports d, Done and Value are the
// parent's, and Err is the parent's or, once d has passed,
// context.DeadlineExceeded. go-redis with ContextTimeoutEnabled reads the
// deadline for every dial and socket read and write, so the deadline bounds
// a call as a timer would when nothing else waits (see timerless). It
// costs one small allocation instead of a timer, a channel and four
// allocations.
type deadlineCtx struct {
	context.Context
	d time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.d, true }

func (c *deadlineCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.d) {
		return context.DeadlineExceeded
	}
	return nil
}

// run calls fn under the timeout, directly or detached (see caller), and
// returns its error unclassified. A panic in a detached fn is returned as
// an error wrapping tiercache.ErrPanic.
func (c *caller) run(ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := call(c, ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

// call is run for a function with a result. A detached fn hands its
// result over a channel, so that a call abandoned at the timeout never
// writes into the caller's variables.
func call[T any](c *caller, ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if !c.detached {
		return fn(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				c.panics.Add(1)
				done <- result{err: fmt.Errorf("%w: redis %s call: %v", tiercache.ErrPanic, c.what, v)}
			}
		}()
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// fail classifies err, the failure of op under the caller's ctx, counts
// it, tracks the server's state and returns the error to give the caller:
// "redis: <op>: <sentinel>: <cause>".
func (c *caller) fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil { // the caller's context ended, not the server
		if errors.Is(err, cerr) {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		return fmt.Errorf("redis: %s: %w: %w", op, cerr, err)
	}
	c.errors.Add(1)
	var sentinel error
	var rerr goredis.Error
	switch {
	case errors.As(err, &rerr):
		sentinel = ErrServer
	case isTimeout(err):
		c.timeouts.Add(1)
		sentinel = ErrTimeout
	case errors.Is(err, tiercache.ErrPanic):
		return fmt.Errorf("redis: %s: %w", op, err)
	default:
		sentinel = ErrUnavailable
	}
	if sentinel != ErrServer && !c.down.Swap(true) {
		c.losses.Add(1)
		c.log.Warn(c.what+" down", "redis: server unreachable", slog.String("component", c.what), slog.String("op", op), slog.Any("error", err))
	}
	return fmt.Errorf("redis: %s: %w: %w", op, sentinel, err)
}

// ok records a call that reached the server. It costs one atomic load
// while the server is up.
func (c *caller) ok() {
	if c.down.Load() && c.down.CompareAndSwap(true, false) {
		c.recoveries.Add(1)
		c.log.Info(c.what+" up", "redis: server reachable again", slog.String("component", c.what))
	}
}

// isTimeout reports a deadline that ended a call: the timeout's context or
// a socket deadline.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
