package tiercache

import (
	"runtime"
	"sync/atomic"

	"github.com/tiercache/tiercache/internal/latency"
)

// LayeredStats is a snapshot of the counters of a Layered, taken by Stats
// without stopping traffic. Counters only grow; concurrent calls may land in
// either of two consecutive snapshots, so fields need not add up exactly
// while traffic runs.
type LayeredStats struct {
	Tiers []TierStats // one per tier, front first

	// PromotionsDropped and PromotionsSkipped are the sums over the tiers.
	PromotionsDropped, PromotionsSkipped uint64
	// Coalesced counts Gets that missed the front tier and shared another
	// Get's read of the lower tiers (singleflight) instead of their own.
	Coalesced uint64
	// Panics counts panics and runtime.Goexit calls met by the promotion
	// worker (WithAsyncPromotion), in a tier or in the error hook; the
	// worker survives them. A tier's panic is also an error of that tier,
	// passed to the error hook as a *PanicError wrapping ErrPanic.
	Panics uint64
}

// TierStats are the counters of one tier of a Layered.
type TierStats struct {
	Name string // from WithTierNames, or ""

	// Hits and Misses count Get lookups in this tier. The front tier's
	// re-check inside a singleflight is not counted. When the front tier is
	// a LookupCounter its own counts since NewLayered are used, so they also
	// include Gets made on that tier directly, outside the Layered.
	Hits, Misses uint64
	// Errors counts failed calls of any operation (get, put, delete,
	// promote) on this tier.
	Errors uint64
	// Promotions counts values written into this tier by promotion.
	Promotions uint64
	// PromotionsDropped counts values read from this tier whose asynchronous
	// promotion was dropped because the queue was full (or the Layered was
	// closing).
	PromotionsDropped uint64
	// PromotionsSkipped counts values read from this tier whose promotion
	// was not written because a Put or Delete of a key in the same stripe
	// was running or had completed since the read (see layered_guard.go):
	// writing could have resurrected an older value.
	PromotionsSkipped uint64
	// Latency summarises a sample of this tier's Get lookups: one in 1024
	// is timed in the front tier, one in 64 in lower tiers.
	Latency LatencyStats
}

const (
	// frontSampleMask and lowerSampleMask: a Get lookup in the front tier is
	// timed when the per-call random r has r&frontSampleMask == 0 (one in
	// 1024), one in a lower tier when r&lowerSampleMask == 0 (one in 64).
	// Reading the clock can cost more than a front hit (hundreds of ns on
	// some virtual machines); lower tiers cost far more than a clock read.
	frontSampleMask = 1<<10 - 1
	lowerSampleMask = 1<<6 - 1
	// shardShift: the bits of the per-call random below it pick sampling,
	// the bits above it pick the counter shard.
	shardShift = 10
)

// LookupCounter is implemented by Managers that count their own Get hits
// and misses at no extra cost, such as backends/lru, which counts under the
// shard lock it already holds. When the front tier of a Layered is one,
// Layered reads its counts instead of counting front lookups itself, which
// saves an atomic add on every front hit.
type LookupCounter interface {
	// Lookups returns the Get hits and misses counted since the Manager was
	// made. Both only grow.
	Lookups() (hits, misses uint64)
}

// tierShard is one shard of one tier's counters. The leading pad keeps the
// counters of different shards on different cache lines whatever the
// alignment of the backing array (the shard is larger than the pad).
type tierShard struct {
	_                                _cacheLinePad
	hits, misses, errors, promotions atomic.Uint64
	dropped, skipped                 atomic.Uint64
	lat                              latency.Histogram
}

type _cacheLinePad [64]byte

// layeredCounters holds per-tier counters in shards picked by a cheap random
// per call (math/rand/v2 is runtime-backed and lock-free), so the hot path
// touches no shared contended cache line and takes no lock.
type layeredCounters struct {
	tiers  int
	mask   uint64
	shards []tierShard // shard s, tier i at s*tiers+i
	global *globalCounters
}

// globalCounters are updated only on miss and promotion paths.
type globalCounters struct {
	_         _cacheLinePad
	coalesced atomic.Uint64
	panics    atomic.Uint64 // see LayeredStats.Panics
	// recheckHits and recheckMisses count the front re-checks inside a
	// flight when the front tier is a LookupCounter, to take them out of
	// its counts.
	recheckHits, recheckMisses atomic.Uint64
	_                          _cacheLinePad
}

func (g *globalCounters) recheck(hit bool) {
	if hit {
		g.recheckHits.Add(1)
	} else {
		g.recheckMisses.Add(1)
	}
}

func newLayeredCounters(tiers int) layeredCounters {
	// Enough shards that two running goroutines rarely pick the same one
	// (about 1 in 4*GOMAXPROCS calls), at most 64.
	n := 8
	for n < 4*runtime.GOMAXPROCS(0) && n < 64 {
		n *= 2
	}
	return layeredCounters{
		tiers:  tiers,
		mask:   uint64(n - 1),
		shards: make([]tierShard, n*tiers),
		global: new(globalCounters),
	}
}

// at returns the shard of tier picked by the random r.
func (c *layeredCounters) at(r uint64, tier int) *tierShard {
	return &c.shards[int((r>>shardShift)&c.mask)*c.tiers+tier]
}

// lookup counts the outcome of a Get lookup that did not fail.
func (s *tierShard) lookup(hit bool) {
	if hit {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
}

// snapshot sums the shards of every tier.
func (c *layeredCounters) snapshot(names []string) LayeredStats {
	out := LayeredStats{
		Tiers:     make([]TierStats, c.tiers),
		Coalesced: c.global.coalesced.Load(),
		Panics:    c.global.panics.Load(),
	}
	acc := make([]latency.Acc, c.tiers)
	for i := range c.shards {
		s, t := &c.shards[i], &out.Tiers[i%c.tiers]
		t.Hits += s.hits.Load()
		t.Misses += s.misses.Load()
		t.Errors += s.errors.Load()
		t.Promotions += s.promotions.Load()
		t.PromotionsDropped += s.dropped.Load()
		t.PromotionsSkipped += s.skipped.Load()
		acc[i%c.tiers].Add(&s.lat)
	}
	for i := range out.Tiers {
		out.Tiers[i].Name = names[i]
		out.Tiers[i].Latency = LatencyStats(acc[i].Summary())
		out.PromotionsDropped += out.Tiers[i].PromotionsDropped
		out.PromotionsSkipped += out.Tiers[i].PromotionsSkipped
	}
	return out
}
