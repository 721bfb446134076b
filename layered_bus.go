package tiercache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"
	"time"
)

// Cross-process coherence.
//
// Several processes each run a Layered whose last tier (the authority) is
// shared, such as `lru > redis`. With WithBus, each Layered
//
//	B1 publishes a BusKindKey message for K after every Put and Delete of K,
//	   once the stripe lock of K is released, that is after the authority
//	   and every upper tier were written (also when a tier failed: a
//	   message is harmless, a missed one is not);
//	B2 on a BusKindKey message for K from another publisher, deletes K from
//	   every tier above the authority (never the authority) as a writer
//	   does: under K's stripe lock, bumping its generation (layered_guard.go
//	   rule W1), so a promotion that read K before cannot write it back;
//	B3 ignores its own messages and messages of other kinds;
//	B4 writes every upper-tier copy (Put or promotion) with its retention
//	   capped at the max age (WithBusMaxAge): an upper tier never keeps a
//	   copy longer than that after the copy was written, bus or no bus.
//
// The guarantee. Let W be a Put or Delete of K in process A that returned
// at time t, and R a Get of K in process B (another Layered on the same
// authority and bus).
//
//   - Bus up: once B has handled W's message (delivery takes the bus
//     latency after t: measured p50/p99 in backends/redis), R returns W's
//     value or a later one, never one the authority held before W: B's
//     upper tiers no longer hold the older value (B2), a promotion that read
//     it before is skipped (W1/P1), and a shared read that started before
//     is not reused (F1). Before that, R may return the older value from
//     B's upper tiers.
//   - Message lost (B's subscription down, A's publish failed, B not yet
//     subscribed): R may return the older value while the copy B's upper
//     tier holds lives, which is at most the max age after it was written
//     there (B4), plus the tier's expiry granularity (5 ms for backends/lru).
//     The copy was written at the latest when a Get in B that read the
//     authority before W's write finished promoting, so the older value is
//     gone at most max age plus one such Get after t.
//   - Within one process nothing changes: a Layered never serves an older
//     value after its own Put or Delete returned (layered_guard.go).
//
// Writers in different processes are not ordered by the bus: the authority
// decides the final value of concurrent Puts, and every process that
// receives the other's message drops its upper-tier copy, after which its
// Gets read the authority's final value. The bus adds nothing to the front
// hit path: a hit reads the front tier exactly as without a bus; B4 costs a
// clock read and a Policy copy per upper-tier write, B1 one Publish per Put
// and Delete.

// Bounds and default of WithBusMaxAge.
const (
	DefaultBusMaxAge = time.Minute
	MinBusMaxAge     = time.Millisecond
	MaxBusMaxAge     = DefaultMaxTTL
)

// busConfig is the part of layeredConfig that WithBus and WithBusMaxAge set.
type busConfig struct {
	bus    Bus
	maxAge time.Duration // 0: DefaultBusMaxAge
}

// WithBus connects the Layered to an invalidation bus shared with the other
// processes whose Layered stacks end in the same authority tier: every Put
// and Delete is announced on it once written, and a key announced by
// another process is deleted from this Layered's upper tiers (every tier
// but the last). Upper-tier copies are kept at most WithBusMaxAge, so that a
// message missed while the bus is down leaves a stale copy for a bounded
// time. See the guarantee at the top of layered_bus.go.
//
// NewLayered subscribes at once, without waiting for the subscription to be
// up; Close unsubscribes. A failed publish (the Put or Delete itself has
// succeeded and returns no error for it) and a lost subscription are passed
// to the ErrorHook with tier BusTier and op "publish" or "subscribe" (the
// latter wrapping ErrBusDown); the bus re-subscribes by itself. A failed
// delete of an announced key is a tier error with op "invalidate". Counters
// are in BusStats. A nil bus (also a typed nil) means none.
func WithBus(bus Bus) LayeredOption {
	return func(c *layeredConfig) { c.bus.bus = bus }
}

// WithBusMaxAge sets how long an upper tier may keep a copy written by a
// Layered with a bus (default DefaultBusMaxAge, clamped to [MinBusMaxAge,
// MaxBusMaxAge]): the bound on staleness when an invalidation message is
// missed. It costs one read of a key from the lower tiers per max age while
// the key stays hot. Without WithBus it has no effect.
func WithBusMaxAge(d time.Duration) LayeredOption {
	return func(c *layeredConfig) { c.bus.maxAge = min(max(d, MinBusMaxAge), MaxBusMaxAge) }
}

// BusStats are the counters of a Layered's invalidation bus.
type BusStats struct {
	// Publishes counts announced Puts and Deletes; PublishErrors those
	// whose Publish failed.
	Publishes, PublishErrors uint64
	// Invalidations counts messages from other publishers whose key was
	// deleted from the upper tiers; Echoes the Layered's own messages,
	// Ignored messages of other kinds, both skipped.
	Invalidations, Echoes, Ignored uint64
	// Losses counts lost subscriptions, Recoveries re-established ones.
	Losses, Recoveries uint64
	// Up is 1 while the subscription is up, else 0.
	Up int64
}

// busLink is the BusSubscriber of one Layered and its counters.
type busLink struct {
	l      *Layered
	bus    Bus
	origin string
	maxAge time.Duration
	sub    io.Closer // nil when Subscribe failed

	up, lost                   atomic.Bool // lost: Down seen since the last Up
	publishes, publishErrors   atomic.Uint64
	invalidations, echoes, ign atomic.Uint64
	losses, recoveries         atomic.Uint64
}

// newBusLink subscribes l to c.bus; it returns nil without a bus.
func newBusLink(l *Layered, c busConfig) *busLink {
	if isNilBus(c.bus) {
		return nil
	}
	b := &busLink{l: l, bus: c.bus, origin: newOrigin(), maxAge: c.maxAge}
	if b.maxAge == 0 {
		b.maxAge = DefaultBusMaxAge
	}
	sub, err := b.subscribe()
	if err != nil {
		b.reportBus(opSubscribe, "", fmt.Errorf("%w: %w", ErrBusDown, err))
	}
	b.sub = sub
	return b
}

// subscribe calls Subscribe, turning a panic into an error.
func (b *busLink) subscribe() (sub io.Closer, err error) {
	defer func() {
		if v := recover(); v != nil {
			sub, err = nil, fmt.Errorf("%w: bus Subscribe: %v", ErrPanic, v)
		}
	}()
	return b.bus.Subscribe(b)
}

func isNilBus(b Bus) bool {
	if b == nil {
		return true
	}
	v := reflect.ValueOf(b)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// newOrigin returns a random 128-bit id in hex.
func newOrigin() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// close unsubscribes and waits until no subscriber method runs.
func (b *busLink) close() {
	if b == nil || b.sub == nil {
		return
	}
	_ = b.sub.Close()
}

// announce publishes that key changed (rule B1). The caller's
// cancellation does not stop it: the write it announces has happened, and
// the bus bounds the call itself.
func (l *Layered) announce(ctx context.Context, key string) {
	b := l.bus
	if b == nil {
		return
	}
	b.publishes.Add(1)
	m := BusMessage{Origin: b.origin, Kind: BusKindKey, Key: key}
	if err := b.bus.Publish(context.WithoutCancel(ctx), m); err != nil {
		b.publishErrors.Add(1)
		b.reportBus(opPublish, key, err)
	}
}

// upperPolicy returns the policy to write into a tier above the authority:
// pol itself without a bus, else pol with its retention capped at the max
// age from now (rule B4). It allocates a copy only when the cap shortens
// the retention.
func (l *Layered) upperPolicy(pol *Policy) *Policy {
	if l.bus == nil || pol == nil {
		return pol
	}
	return pol.capKeep(time.Now(), l.bus.maxAge)
}

// capKeep returns p, or a copy of p whose KeepFor ends at now+maxAge when
// p's would end later. Only retention changes: TTL, Age and the wire form
// are p's.
func (p *Policy) capKeep(now time.Time, maxAge time.Duration) *Policy {
	if p.KeepFor(now) <= maxAge {
		return p
	}
	c := *p
	c.keepUntil = now.Add(maxAge).UnixNano()
	return &c
}

// Receive handles one bus message (rules B2, B3).
func (b *busLink) Receive(m BusMessage) {
	switch {
	case m.Origin == b.origin:
		b.echoes.Add(1)
	case m.Kind != BusKindKey:
		b.ign.Add(1)
	case !b.l.closed.Load() && m.Key != "":
		b.invalidations.Add(1)
		b.l.invalidate(m.Key)
	}
}

// Up records that the subscription is established.
func (b *busLink) Up() {
	b.up.Store(true)
	if b.lost.Swap(false) {
		b.recoveries.Add(1)
		b.l.logBusUp()
	}
}

// Down records a lost subscription and reports it to the ErrorHook.
func (b *busLink) Down(err error) {
	b.up.Store(false)
	b.lost.Store(true)
	b.losses.Add(1)
	b.reportBus(opSubscribe, "", fmt.Errorf("%w: %w", ErrBusDown, err))
}

// invalidate deletes key from every tier above the authority, as a writer
// (rule B2). A panicking tier is reported as ErrPanic; the stripe is
// unlocked by its deferred Unlock.
func (l *Layered) invalidate(key string) {
	var errs []tierFailure
	defer func() {
		if v := recover(); v != nil {
			l.bus.reportBus(opInvalidate, key, fmt.Errorf("%w: tier Delete during invalidation: %v", ErrPanic, v))
		}
	}()
	ctx := context.Background()
	l.guard.stripe(key).write(func() {
		for i := len(l.tiers) - 2; i >= 0; i-- {
			if err := l.tiers[i].Delete(ctx, key); err != nil {
				errs = append(errs, tierFailure{i, opInvalidate, err})
			}
		}
	})
	_ = l.report(key, errs)
}

// reportBus logs an error of the bus itself and passes it to the
// ErrorHook.
func (b *busLink) reportBus(op, key string, err error) {
	b.l.logBus(op, key, err)
	if h := b.l.hook; h != nil {
		h(BusTier, op, key, err)
	}
}

// BusStats returns a snapshot of the bus counters; zero without WithBus.
// It takes no lock.
func (l *Layered) BusStats() BusStats {
	b := l.bus
	if b == nil {
		return BusStats{}
	}
	st := BusStats{
		Publishes:     b.publishes.Load(),
		PublishErrors: b.publishErrors.Load(),
		Invalidations: b.invalidations.Load(),
		Echoes:        b.echoes.Load(),
		Ignored:       b.ign.Load(),
		Losses:        b.losses.Load(),
		Recoveries:    b.recoveries.Load(),
	}
	if b.up.Load() {
		st.Up = 1
	}
	return st
}
