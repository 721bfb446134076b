package tier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// ErrOpen reports a call that a Breaker refused because its circuit is open:
// the tier failed repeatedly and is resting. tiercache.Layered treats it like
// any tier error, as a miss. Match with errors.Is.
var ErrOpen = errors.New("tier: circuit breaker open")

// Defaults and ranges of the Breaker options.
const (
	DefaultThreshold = 5
	DefaultCooldown  = time.Second
	maxThreshold     = 1 << 20
	minCooldown      = time.Millisecond
	maxCooldown      = time.Hour
)

// BreakerState is the state of a Breaker's circuit, a gauge in
// BreakerStats (0 closed, 1 open, 2 half-open).
type BreakerState int64

// Breaker states.
const (
	// BreakerClosed lets every call through and counts consecutive failures.
	BreakerClosed BreakerState = iota
	// BreakerOpen refuses every call until the cool-down has passed.
	BreakerOpen
	// BreakerHalfOpen lets one trial call through; others are refused.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", int64(s))
}

// BreakerOption configures Breaker.
type BreakerOption interface{ applyBreaker(*breakerConfig) }

// breakerOption is a BreakerOption of the Breaker alone.
type breakerOption func(*breakerConfig)

func (f breakerOption) applyBreaker(c *breakerConfig) { f(c) }

type breakerConfig struct {
	threshold int64
	cooldown  time.Duration
	now       func() time.Time
	logger    *slog.Logger  // WithLogger
	logEvery  time.Duration // ratelog interval; 0 means ratelog.DefaultEvery
}

// WithThreshold sets how many consecutive failures open the circuit.
// Default DefaultThreshold, range [1, 1<<20].
func WithThreshold(n int) BreakerOption {
	return breakerOption(func(c *breakerConfig) { c.threshold = int64(min(max(n, 1), maxThreshold)) })
}

// WithCooldown sets how long the circuit stays open before a trial call is
// let through. Default DefaultCooldown, range [1ms, 1h].
func WithCooldown(d time.Duration) BreakerOption {
	return breakerOption(func(c *breakerConfig) { c.cooldown = min(max(d, minCooldown), maxCooldown) })
}

// WithClock sets the clock the cool-down is measured with (for tests). The
// default, and the value used for nil, is time.Now.
func WithClock(now func() time.Time) BreakerOption {
	return breakerOption(func(c *breakerConfig) {
		if now != nil {
			c.now = now
		}
	})
}

// BreakerManager is a circuit breaker around one tier; see Breaker. It
// implements tiercache.Manager and is safe for concurrent use when the
// wrapped Manager is.
type BreakerManager struct {
	m         tiercache.Manager
	threshold int64
	cooldown  time.Duration
	now       func() time.Time
	state     atomic.Int32 // BreakerState
	failures  atomic.Int64 // consecutive failures while closed
	// epoch counts state changes; a call allowed while closed counts its
	// failure only if the circuit has not changed state since it started.
	epoch atomic.Uint64

	mu       sync.Mutex // guards the transitions out of closed and the fields below
	openedAt time.Time  // when the circuit opened or the current trial began
	trial    uint64     // ticket of the current trial call

	opens, closes, rejected atomic.Uint64 // BreakerStats
	log                     *ratelog.Logger
}

var _ tiercache.Manager = (*BreakerManager)(nil)

// Breaker returns a circuit breaker around m. After WithThreshold
// consecutive failures the circuit opens: calls fail fast, without reaching
// m, with an error wrapping ErrOpen. After WithCooldown one trial call is let
// through (half-open); its success closes the circuit, its failure opens it
// for another cool-down. A trial that has not answered within a cool-down is
// given up and the next call becomes the trial.
//
// A failure is an error of the tier: any error except those that say
// something about one entry or one call rather than the tier,
// tiercache.ErrCorrupt (a damaged entry), tiercache.ErrVersion (an entry in
// a newer format), tiercache.ErrTooLarge (a value over a limit),
// tiercache.ErrInvalid (the caller's fault) and context.Canceled (the caller
// gave up); a miss is a success. Under concurrency "consecutive" is approximate: a success resets
// the count. A call that started before the circuit last opened or closed
// does not count when it fails late.
//
// While closed, a call costs two atomic loads beyond the call of m (a
// failure also an atomic add); the mutex is taken only to change state and
// while the circuit is not closed. Put validates its arguments first.
// Stats (and Metrics) report the state and count openings, closings and
// rejected calls at no cost to a closed call; WithLogger logs the state
// changes.
func Breaker(m tiercache.Manager, opts ...BreakerOption) *BreakerManager {
	nilarg.Check("tier: Breaker", "m", m)
	c := breakerConfig{threshold: DefaultThreshold, cooldown: DefaultCooldown, now: time.Now}
	for _, o := range opts {
		o.applyBreaker(&c)
	}
	return &BreakerManager{m: m, threshold: c.threshold, cooldown: c.cooldown, now: c.now,
		log: ratelog.New(c.logger, c.logEvery)}
}

// State returns the current state of the circuit. It does not lock.
func (b *BreakerManager) State() BreakerState { return BreakerState(b.state.Load()) }

// Get returns what the wrapped Manager holds under key, or an error wrapping
// ErrOpen while the circuit is open.
func (b *BreakerManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	ticket, epoch, err := b.allow("get", key)
	if err != nil {
		return nil, nil, err
	}
	resp, pol, err := b.m.Get(ctx, key)
	b.record(ticket, epoch, err)
	return resp, pol, err
}

// Put stores resp under key and returns resp, or an error wrapping ErrOpen
// while the circuit is open.
func (b *BreakerManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	ticket, epoch, err := b.allow("put", key)
	if err != nil {
		return nil, err
	}
	got, err := b.m.Put(ctx, key, resp, pol)
	b.record(ticket, epoch, err)
	return got, err
}

// Delete removes key, or returns an error wrapping ErrOpen while the circuit
// is open.
func (b *BreakerManager) Delete(ctx context.Context, key string) error {
	ticket, epoch, err := b.allow("delete", key)
	if err != nil {
		return err
	}
	err = b.m.Delete(ctx, key)
	b.record(ticket, epoch, err)
	return err
}

// allow decides whether a call may proceed. A non-zero ticket marks the
// trial call of a half-open circuit; epoch is the state epoch the call
// started in.
func (b *BreakerManager) allow(op, key string) (ticket, epoch uint64, err error) {
	epoch = b.epoch.Load()
	if b.State() == BreakerClosed {
		return 0, epoch, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	state := b.State()
	if state == BreakerClosed {
		return 0, b.epoch.Load(), nil
	}
	if wait := b.cooldown - b.now().Sub(b.openedAt); wait > 0 {
		b.rejected.Add(1)
		return 0, 0, fmt.Errorf("tier: breaker: %s %s: %v, retry in %v: %w", op, keyfmt.Quote(key), state, wait, ErrOpen)
	}
	b.trial++
	b.openedAt = b.now()
	b.state.Store(int32(BreakerHalfOpen))
	return b.trial, 0, nil
}

// record accounts for the outcome of a call allowed with ticket in epoch.
func (b *BreakerManager) record(ticket, epoch uint64, err error) {
	failed := err != nil && isTierFailure(err)
	if ticket == 0 {
		switch {
		case failed && b.epoch.Load() != epoch:
			// Started before the circuit last opened or closed: its late
			// failure says nothing about the tier since.
		case failed:
			if b.failures.Add(1) >= b.threshold {
				b.trip(err)
			}
		case err == nil && b.failures.Load() != 0:
			b.failures.Store(0)
		}
		return
	}
	switch b.recordTrial(ticket, failed, err) {
	case BreakerOpen:
		b.logOpen(true, err)
	case BreakerClosed:
		b.logClose()
	}
}

// recordTrial accounts for the outcome of the trial call ticket and returns
// the state it moved the circuit to (BreakerHalfOpen if none, or back to
// open without a failure). The caller logs outside the lock.
func (b *BreakerManager) recordTrial(ticket uint64, failed bool, err error) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ticket != b.trial || b.State() != BreakerHalfOpen {
		return BreakerHalfOpen // a trial given up on answered late
	}
	switch {
	case failed:
		b.openLocked()
		return BreakerOpen
	case err != nil: // neutral (cancelled): let the next call try again at once
		b.openedAt = b.now().Add(-b.cooldown)
		b.state.Store(int32(BreakerOpen))
		return BreakerHalfOpen
	default:
		b.failures.Store(0)
		b.epoch.Add(1)
		b.state.Store(int32(BreakerClosed))
		b.closes.Add(1)
		return BreakerClosed
	}
}

// trip opens a closed circuit after too many consecutive failures; err is
// the last of them.
func (b *BreakerManager) trip(err error) {
	b.mu.Lock()
	opened := b.State() == BreakerClosed && b.failures.Load() >= b.threshold
	if opened {
		b.openLocked()
	}
	b.mu.Unlock()
	if opened {
		b.logOpen(false, err)
	}
}

func (b *BreakerManager) openLocked() {
	b.openedAt = b.now()
	b.failures.Store(0)
	b.epoch.Add(1)
	b.state.Store(int32(BreakerOpen))
	b.opens.Add(1)
}

// isTierFailure reports whether err is a failure of the tier, not of one
// entry or one call (see Breaker).
func isTierFailure(err error) bool {
	for _, e := range [...]error{tiercache.ErrCorrupt, tiercache.ErrVersion, tiercache.ErrTooLarge,
		tiercache.ErrInvalid, context.Canceled} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}
