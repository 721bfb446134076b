package tiercache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// No resurrection.
//
// Promotion copies a value read from a lower tier into the tiers above it.
// Without care a promotion can write back a value that a Put or Delete has
// replaced or removed in the meantime:
//
//	Get: reads old v from tier 2 (slow) ........... writes v into tiers 0, 1
//	Delete:                  removes k from 0, 1, 2; returns
//
// after which tiers 0 and 1 hold the deleted v again. The guard is a
// striped array of {mutex, generation}; a key maps to one stripe (maphash).
//
// Rules:
//
//	W1 Put and Delete Lock the stripe, write (or delete in) every tier, then
//	   increment gen (an atomic add, still under the lock), then Unlock.
//	   This also serialises concurrent writers of one key, so the tiers
//	   never end up holding values from two different Puts.
//	R1 A Get that missed the front records g = gen (an atomic load) before
//	   it reads any lower tier (inside the flight; the flight's result
//	   carries g).
//	P1 A promotion (synchronous or from the async queue) TryLocks the
//	   stripe; when the stripe is busy it is skipped (and counted). Holding
//	   the lock it writes only if gen == g; otherwise it is skipped.
//	F1 A Get that shares another Get's flight records its own g' before
//	   joining; if the flight's g differs, a Put or Delete completed between
//	   the two and the flight may have read the older value: it reads again
//	   on its own instead of using the shared result.
//
// Claim: once a Put or Delete W has returned, no promotion P that read its
// value before W's write completed ever writes into a tier.
//
// Let G be the read behind P, with generation snapshot g. W increments gen
// at its end, under the lock, after all of its tier writes.
//
//   - W incremented gen before G loaded g: the atomic store/load pair orders
//     all of W's tier writes before G's loads, so G read W's value (or a
//     later one): nothing older.
//   - G loaded g before W incremented gen: then gen != g from W's increment
//     on. P needs the lock. If P takes it before W does, P's writes
//     complete before W starts (W then overwrites or deletes them, so P
//     wrote nothing that outlives W). If W holds it, P's TryLock fails and P
//     is skipped. If P takes it after W released it, P sees gen != g (gen
//     only grows) and is skipped.
//
// A Put in progress while G reads (lock held, gen not yet incremented) may
// let G see a mix of old and new values; the second case covers it since W
// increments after G's load. Promotions never block a writer for longer than
// their own tier writes, and never wait themselves (TryLock).
//
// Keys that share a stripe may skip each other's promotions (counted as
// PromotionsSkipped); with stripeCount stripes this is rare and only costs a
// later lower-tier read. The guard assumes every write to the tiers goes
// through this Layered.

// stripeCount is the number of stripes (a power of 2). 4096 stripes of 16
// bytes cost 64 KiB per Layered.
const stripeCount = 4096

// stripe guards the keys that hash to it.
type stripe struct {
	mu  sync.Mutex
	gen atomic.Uint64
}

// guard is the striped array.
type guard struct {
	seed    maphash.Seed
	stripes []stripe
}

func newGuard() guard {
	return guard{seed: maphash.MakeSeed(), stripes: make([]stripe, stripeCount)}
}

// stripe returns the stripe of key. It hashes key (no allocation).
func (g *guard) stripe(key string) *stripe {
	return &g.stripes[maphash.String(g.seed, key)&(stripeCount-1)]
}

// write runs fn under the stripe lock and then increments gen (rule W1).
// The deferred unlock keeps the stripe usable if a tier panics.
func (s *stripe) write(fn func()) {
	s.mu.Lock()
	defer func() {
		s.gen.Add(1)
		s.mu.Unlock()
	}()
	fn()
}

// tryPromote runs fn under the stripe lock if the lock is free and gen is
// still g (rule P1); it reports whether fn ran.
func (s *stripe) tryPromote(g uint64, fn func()) bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	if s.gen.Load() != g {
		return false
	}
	fn()
	return true
}
