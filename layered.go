package tiercache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache/internal/nilarg"
	"github.com/tiercache/tiercache/internal/ratelog"
	"github.com/tiercache/tiercache/internal/singleflight"
)

// Layered stacks Managers into one: tiers[0] is the front (the fastest,
// smallest), the last tier is the authority.
//
//   - Get asks the tiers top-down. The first hit wins and is promoted into
//     every tier above it with the Policy it came with, so the promoted copy
//     expires when the original would. Promotion is synchronous unless
//     WithAsyncPromotion is given. Concurrent Gets that miss the front
//     for one key share one read of the lower tiers (singleflight).
//   - A tier whose Get fails counts as a miss for that call (fail-open); the
//     error is counted and passed to the WithErrorHook hook. With
//     WithFailOnError the Get returns the error instead.
//   - Put writes every tier, the authority first. If the authority fails,
//     no upper tier is written. An upper tier whose Put fails is asked to
//     Delete the key, so that it cannot keep serving an older value.
//   - Delete removes the key from every tier, the authority first.
//   - Errors name their tier and operation (*TierError); several are joined
//     with errors.Join. errors.Is sees the tiers' own errors.
//   - No resurrection: once Put or Delete has returned, no promotion that
//     read an older value writes it into any tier (see layered_guard.go).
//
// A read of the lower tiers runs with the context of the Get that started
// it; a Get that waits for another's read returns early when its own
// context ends, and reads again on its own when the other's context ended
// before the read found a value.
//
// A Layered is safe for concurrent use. A Get that hits the front tier costs
// the tier's Get plus a few nanoseconds of counting: no lock, no shared
// contended atomic and no allocation. The *Response and *Policy returned by
// Get are the tier's own: treat them as read-only. A Layered does not own its
// tiers: Close does not close them.
type Layered struct {
	front Manager // tiers[0], or nil without tiers
	// frontCount is tiers[0] when it counts its own lookups; Layered then
	// does not count front lookups itself (frontBase: counts at NewLayered).
	frontCount LookupCounter
	frontBase  [2]uint64
	tiers      []Manager
	names      []string
	strict     bool
	hook       ErrorHook
	log        *ratelog.Logger // nil without WithLogger (layered_log.go)
	logKeys    []string        // per tier
	stats      layeredCounters
	guard      guard
	async      *promoter // nil: synchronous promotion
	bus        *busLink  // nil without WithBus (layered_bus.go)
	closed     atomic.Bool
	_          _cacheLinePad // keeps the read-mostly fields above off the flights' lock
	flight     singleflight.Group[flightResult]
}

var _ Manager = (*Layered)(nil)

// flightResult is what one shared read of the lower tiers found.
type flightResult struct {
	resp *Response
	pol  *Policy
	gen  uint64 // stripe generation recorded before the read (rule R1)
	// fails are the tier errors met by the read. They are reported (counted
	// and passed to the hook) after the flight has ended, by the Get that
	// ran it, so that a hook may call back into the Layered for the key.
	fails []tierFailure
	// ctxDone: the context of the Get that ran the read had ended by the
	// end of the read, so a miss or an error may be its cancellation.
	ctxDone bool
}

// Operation names used in errors, hooks and stats.
const (
	opGet     = "get"
	opPut     = "put"
	opDelete  = "delete"
	opPromote = "promote"
)

// NewLayered returns a Manager over tiers, front first, authority last.
// nil entries are left out (indices in errors and stats count the remaining
// tiers). A typed nil, a nil pointer in a non-nil Manager (what a failed
// backend constructor returns), is a programming error: NewLayered panics
// with a message naming it, e.g. "tiercache: NewLayered: tier 1 is a nil
// *disk.Manager". With no tiers every Get misses and Put stores nothing.
// With WithAsyncPromotion it starts one goroutine, which Close stops.
func NewLayered(tiers []Manager, opts ...LayeredOption) *Layered {
	var cfg layeredConfig
	for _, o := range opts {
		o(&cfg)
	}
	l := &Layered{strict: cfg.strict, hook: cfg.hook, guard: newGuard()}
	for i, t := range tiers {
		if t == nil {
			continue
		}
		nilarg.Check("tiercache: NewLayered", "tier "+strconv.Itoa(i), t)
		l.tiers = append(l.tiers, t)
		l.names = append(l.names, nameAt(cfg.names, i))
	}
	if len(l.tiers) > 0 {
		l.front = l.tiers[0]
		if c, ok := l.front.(LookupCounter); ok {
			l.frontCount = c
			l.frontBase[0], l.frontBase[1] = c.Lookups()
		}
	}
	l.stats = newLayeredCounters(len(l.tiers))
	l.log, l.logKeys = newLayeredLog(&cfg, len(l.tiers))
	if cfg.queue > 0 {
		l.async = newPromoter(l, cfg.queue)
	}
	l.bus = newBusLink(l, cfg.bus) // last: messages may arrive at once
	return l
}

func nameAt(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return ""
}

// Get returns the response stored under key in the first tier that has it
// and promotes it into the tiers above. It returns (nil, nil, nil) on a miss.
func (l *Layered) Get(ctx context.Context, key string) (*Response, *Policy, error) {
	if l.closed.Load() || l.front == nil {
		return l.getNone()
	}
	// The front hit path: one runtime random, and one uncontended atomic
	// add unless the front tier counts its own lookups.
	r := rand.Uint64()
	if r&frontSampleMask == 0 {
		return l.getSampled(ctx, r, key)
	}
	resp, pol, err := l.front.Get(ctx, key)
	if err == nil && l.frontCount == nil {
		l.stats.at(r, 0).lookup(resp != nil)
	}
	if err == nil && resp != nil {
		return resp, pol, nil
	}
	return l.getMissed(ctx, key, err)
}

// getNone answers a Get on a closed Layered or one without tiers.
func (l *Layered) getNone() (*Response, *Policy, error) {
	if l.closed.Load() {
		return nil, nil, closedError(opGet)
	}
	return nil, nil, nil
}

// getSampled is Get with the front lookup timed.
func (l *Layered) getSampled(ctx context.Context, r uint64, key string) (*Response, *Policy, error) {
	resp, pol, err := l.lookupTimed(ctx, l.stats.at(r, 0), 0, key)
	if err == nil && resp != nil {
		return resp, pol, nil
	}
	return l.getMissed(ctx, key, err)
}

// lookup is one counted Get in lower tier i; one in 64 is timed.
func (l *Layered) lookup(ctx context.Context, i int, key string) (*Response, *Policy, error) {
	r := rand.Uint64()
	s := l.stats.at(r, i)
	if r&lowerSampleMask == 0 {
		return l.lookupTimed(ctx, s, i, key)
	}
	resp, pol, err := l.tiers[i].Get(ctx, key)
	if err == nil {
		s.lookup(resp != nil)
	}
	return resp, pol, err
}

// lookupTimed is a counted Get in tier i whose latency is recorded.
func (l *Layered) lookupTimed(ctx context.Context, s *tierShard, i int, key string) (*Response, *Policy, error) {
	start := time.Now()
	resp, pol, err := l.tiers[i].Get(ctx, key)
	s.lat.Observe(time.Since(start))
	if err == nil && (i != 0 || l.frontCount == nil) {
		s.lookup(resp != nil)
	}
	return resp, pol, err
}

// getMissed finishes a Get that missed the front tier or failed in it.
func (l *Layered) getMissed(ctx context.Context, key string, frontErr error) (*Response, *Policy, error) {
	if frontErr != nil {
		if err := l.failed(0, opGet, key, frontErr); l.strict {
			return nil, nil, err
		}
	}
	if len(l.tiers) == 1 {
		return nil, nil, nil
	}
	s := l.guard.stripe(key)
	gen := s.gen.Load() // rule F1
	res, err, shared := l.flight.Do(ctx, key, func() (flightResult, error) {
		res, err := l.load(ctx, key, s)
		res.ctxDone = ctx.Err() != nil
		return res, err
	})
	if shared {
		l.stats.global.coalesced.Add(1)
		stale := err == nil && res.gen != gen // rule F1
		// The reader's context ended: its miss or error need not be ours.
		cancelled := res.ctxDone && res.resp == nil && ctx.Err() == nil
		if !stale && !cancelled {
			return res.resp, res.pol, err
		}
		res, err = l.load(ctx, key, s)
	}
	_ = l.report(key, res.fails)
	return res.resp, res.pol, err
}

// load re-checks the front tier, then reads the lower tiers top-down and
// promotes the first hit (rules R1, P1). It collects tier errors in the
// result's fails instead of reporting them: it runs inside a flight.
func (l *Layered) load(ctx context.Context, key string, s *stripe) (flightResult, error) {
	res := flightResult{gen: s.gen.Load()}
	// A flight that ended just before this one may have promoted the value.
	resp, pol, err := l.tiers[0].Get(ctx, key)
	if err == nil && l.frontCount != nil {
		l.stats.global.recheck(resp != nil) // not a lookup of the caller's
	}
	if err == nil && resp != nil {
		res.resp, res.pol = resp, pol
		return res, nil
	}
	for i := 1; i < len(l.tiers); i++ {
		resp, pol, err := l.lookup(ctx, i, key)
		if err != nil {
			f := tierFailure{i, opGet, err}
			res.fails = append(res.fails, f)
			if l.strict {
				return res, l.tierError(f)
			}
			continue
		}
		if resp != nil {
			res.resp, res.pol = resp, pol
			p := promotion{key: key, resp: resp, pol: pol, from: i, gen: res.gen, stripe: s}
			res.fails = append(res.fails, l.promote(ctx, p)...)
			return res, nil
		}
	}
	return res, nil
}

// Put stores resp under key in every tier, the authority first, and
// returns resp. On an error from an upper tier only, the authority holds
// resp and Put returns resp with the error; if the authority fails, Put
// returns nil and the error and no upper tier is written.
func (l *Layered) Put(ctx context.Context, key string, resp *Response, pol *Policy) (*Response, error) {
	if l.closed.Load() {
		return nil, closedError(opPut)
	}
	if err := CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if len(l.tiers) == 0 {
		return resp, nil
	}
	var errs []tierFailure
	l.guard.stripe(key).write(func() { errs = l.putAll(ctx, key, resp, pol) })
	l.announce(ctx, key)
	err := l.report(key, errs)
	if len(errs) > 0 && errs[0].tier == len(l.tiers)-1 && errs[0].op == opPut {
		return nil, err
	}
	return resp, err
}

// putAll writes the tiers bottom-up; the caller holds the stripe lock.
func (l *Layered) putAll(ctx context.Context, key string, resp *Response, pol *Policy) []tierFailure {
	var errs []tierFailure
	last := len(l.tiers) - 1
	upper := pol // for the tiers above the authority
	for i := last; i >= 0; i-- {
		_, err := l.tiers[i].Put(ctx, key, resp, upper)
		if i == last {
			upper = l.upperPolicy(pol)
		}
		if err == nil {
			continue
		}
		errs = append(errs, tierFailure{i, opPut, err})
		if i == last {
			return errs
		}
		if err := l.tiers[i].Delete(ctx, key); err != nil {
			errs = append(errs, tierFailure{i, opDelete, err})
		}
	}
	return errs
}

// Delete removes key from every tier, the authority first. It tries every
// tier and joins their errors.
func (l *Layered) Delete(ctx context.Context, key string) error {
	if l.closed.Load() {
		return closedError(opDelete)
	}
	if len(l.tiers) == 0 {
		return nil
	}
	var errs []tierFailure
	l.guard.stripe(key).write(func() {
		for i := len(l.tiers) - 1; i >= 0; i-- {
			if err := l.tiers[i].Delete(ctx, key); err != nil {
				errs = append(errs, tierFailure{i, opDelete, err})
			}
		}
	})
	l.announce(ctx, key)
	return l.report(key, errs)
}

// Close stops the Layered: later calls fail with an error wrapping
// ErrClosed. With asynchronous promotion it drains the queue and waits for
// the worker to finish, also when another Close is already doing so. It
// does not wait for calls in progress and does not close the tiers: a
// Layered does not own them (one tier may serve several stacks), so close
// each tier after the Layered. Close is idempotent and always returns nil.
func (l *Layered) Close() error {
	l.closed.Store(true)
	if l.async != nil {
		l.async.close() // idempotent; every caller waits for the worker
	}
	l.bus.close() // idempotent; nil without a bus
	return nil
}

// Stats returns a snapshot of the counters. It takes no lock and may run
// concurrently with traffic.
func (l *Layered) Stats() LayeredStats {
	st := l.stats.snapshot(l.names)
	if l.frontCount != nil {
		// The re-checks are read first: each was counted by the tier before
		// it was counted here, so the differences cannot go below zero.
		rh, rm := l.stats.global.recheckHits.Load(), l.stats.global.recheckMisses.Load()
		hits, misses := l.frontCount.Lookups()
		st.Tiers[0].Hits = hits - l.frontBase[0] - rh
		st.Tiers[0].Misses = misses - l.frontBase[1] - rm
	}
	return st
}

// Tiers returns the number of tiers.
func (l *Layered) Tiers() int { return len(l.tiers) }

func closedError(op string) error {
	return fmt.Errorf("tiercache: layered %s: %w", op, ErrClosed)
}

// TierError is an error of one tier of a Layered. It wraps the tier's
// error: errors.Is and errors.As see through it.
type TierError struct {
	Tier int    // index of the tier, 0 is the front
	Name string // the tier's name from WithTierNames, or ""
	Op   string // "get", "put", "delete" or "promote"
	Err  error  // the tier's error
}

// Error returns "tiercache: layered tier 1 (memcached) get: <err>".
func (e *TierError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("tiercache: layered tier %d (%s) %s: %v", e.Tier, e.Name, e.Op, e.Err)
	}
	return fmt.Sprintf("tiercache: layered tier %d %s: %v", e.Tier, e.Op, e.Err)
}

// Unwrap returns the tier's error.
func (e *TierError) Unwrap() error { return e.Err }

// tierFailure is an error collected under a lock and reported after it.
type tierFailure struct {
	tier int
	op   string
	err  error
}

// failed counts err, calls the hook and returns err as a *TierError.
// It must not be called under a stripe lock (the hook is user code).
func (l *Layered) failed(tier int, op, key string, err error) error {
	l.stats.at(rand.Uint64(), tier).errors.Add(1)
	l.logFailure(tier, op, key, err)
	if l.hook != nil {
		l.hook(tier, op, key, err)
	}
	return l.tierError(tierFailure{tier, op, err})
}

// tierError returns f as a *TierError, without counting or reporting it.
func (l *Layered) tierError(f tierFailure) error {
	return &TierError{Tier: f.tier, Name: l.names[f.tier], Op: f.op, Err: f.err}
}

// report passes each failure to failed and joins the results (nil if none).
func (l *Layered) report(key string, fs []tierFailure) error {
	if len(fs) == 0 {
		return nil
	}
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = l.failed(f.tier, f.op, key, f.err)
	}
	return errors.Join(errs...)
}
