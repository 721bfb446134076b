package httpcache

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/latency"
)

// Stats is a snapshot of a Transport's counters, taken by Stats without
// stopping traffic. Counters (uint64) only grow; gauges (int64) go up and
// down. Requests running while the snapshot is taken may land in it in
// part, so fields need not add up exactly under load.
//
// Every RoundTrip counts in exactly one of the request outcomes, from Hits
// to OriginErrors; background revalidations are not requests and count
// only in the Refreshes fields, Stores, Refusals and OriginLatency.
type Stats struct {
	// Hits counts requests answered from a fresh stored response, including
	// 304s to the client's own conditional requests and 206s of a range.
	Hits uint64
	// StaleHits counts requests answered from a stale stored response
	// without asking the origin: allowed by the request (max-stale), by
	// stale-while-revalidate (a refresh may run in the background) or by
	// the mode (ForceCache, OnlyIfCached, IgnoreRules).
	StaleHits uint64
	// Revalidations counts requests answered from a stored response after
	// the origin confirmed it with a 304.
	Revalidations uint64
	// Misses counts cacheable requests answered by the origin because no
	// stored response could be used (none stored, another variant, stale
	// and replaced, the client asked for a fresh one), and only-if-cached
	// requests answered 504 because nothing usable was stored.
	Misses uint64
	// Uncacheable counts requests whose method the cache does not serve
	// (POST, PUT, DELETE, ...): forwarded, invalidating on success.
	Uncacheable uint64
	// Bypasses counts requests forwarded without looking in the cache: the
	// mode (NoStore, Reload) or preconditions meant for the origin
	// (If-Match, If-Unmodified-Since, a Range the cache does not serve).
	Bypasses uint64
	// Collapsed counts requests that waited for a concurrent request for
	// the same key and were answered with the response it stored.
	Collapsed uint64
	// StaleOnError counts requests answered from a stale stored response
	// because the origin failed (a 5xx or no answer), within a
	// stale-if-error window of the response or the request.
	StaleOnError uint64
	// OriginErrors counts requests that ended in an error (the origin could
	// not be reached and nothing stored could stand in, or the caller's
	// context ended) or in the 504 a must-revalidate response requires
	// when the origin cannot be reached.
	OriginErrors uint64

	// BytesFromCache counts body bytes of responses served from the cache
	// (as served: a 206 counts its range, a HEAD or 304 nothing).
	BytesFromCache uint64
	// BytesFromOrigin counts body bytes read by callers from responses the
	// origin sent through the Transport (background reads not included).
	BytesFromOrigin uint64

	// Stores counts responses written to the Manager (new responses, and
	// stored ones updated by a 304 or a HEAD response).
	Stores uint64
	// Refusals counts responses to GET requests that were not stored, by
	// reason.
	Refusals StoreRefusals

	// Refreshes counts background revalidations started
	// (stale-while-revalidate).
	Refreshes uint64
	// RefreshesSkipped counts stale-while-revalidate hits that started no
	// background revalidation because WithMaxBackground were already
	// running (the stale response was served all the same).
	RefreshesSkipped uint64
	// RefreshErrors counts background revalidations that failed: the origin
	// could not be reached, or the request ran out of time
	// (WithBackgroundTimeout).
	RefreshErrors uint64
	// RefreshesRunning is the number of background revalidations running.
	RefreshesRunning int64
	// Panics counts panics recovered in background revalidations; each is
	// also reported to the ErrorHook (wrapping tiercache.ErrPanic).
	Panics uint64

	// RateLimited counts requests to the origin the rate limiter refused
	// (WithRateLimiter); each is then answered as for an unreachable
	// origin.
	RateLimited uint64

	// Purges counts successful PurgeTag calls and generation moves of
	// PurgeURL (WithPurge).
	Purges uint64
	// Purged counts stored responses found purged by a lookup (a generation
	// they recorded is no longer current), which were then misses.
	Purged uint64
	// PurgeReads counts reads of a generation from the purge store (at most
	// one per tag per WithPurgeMaxAge per process); PurgeErrors the reads,
	// writes and bus operations that failed (reported to the ErrorHook).
	PurgeReads, PurgeErrors uint64

	// OriginLatency summarises the time from sending a request to the
	// origin until its response header arrived (or it failed), for every
	// origin request, background ones included.
	OriginLatency tiercache.LatencyStats
}

// StoreRefusals counts the responses to GET requests the Transport did not
// store, by reason. Each refused response counts once.
type StoreRefusals struct {
	// NoStore: no-store in the response or the request.
	NoStore uint64
	// Private: private, in a shared cache.
	Private uint64
	// Authorization: a response to a request with Authorization that does
	// not allow a shared cache to store it (RFC 9111 §3.5).
	Authorization uint64
	// SetCookie: a response setting a cookie in a shared cache, neither
	// public nor with s-maxage.
	SetCookie uint64
	// VaryStar: Vary: *, which no request can select.
	VaryStar uint64
	// Uncacheable: the status is not cacheable (206, 304, 1xx, a status
	// without explicit freshness that is not cacheable by default, one
	// must-understand does not allow).
	Uncacheable uint64
	// TooLarge: the body exceeds WithMaxBodySize.
	TooLarge uint64
	// Incomplete: the body was abandoned by the caller, failed midway, or
	// did not match its Content-Length.
	Incomplete uint64
	// NotRetained: storable, but with nothing to keep: stale on arrival
	// with no stale window or validators (KeepFor <= 0).
	NotRetained uint64
	// Errors: the Manager's Put failed, or a purge generation could not be
	// read (both reported to the ErrorHook).
	Errors uint64
	// Purged: a tag of the response (or its URL) was purged after its
	// request was sent to the origin (WithPurge).
	Purged uint64
	// Tags: the response has more than MaxTags tags, or one longer than
	// MaxTagLength (WithPurge).
	Tags uint64
}

// outcome is what became of one request, counted in Stats.
type outcome uint8

const (
	outNone outcome = iota // not a request of its own (a background revalidation)
	outHit
	outStaleHit
	outRevalidated
	outMiss
	outUncacheable
	outBypass
	outCollapsed
	outStaleOnError
	outOriginError
	numOutcomes
)

// refusal is a reason a response was not stored.
type refusal uint8

const (
	refNoStore refusal = iota
	refPrivate
	refAuthorization
	refSetCookie
	refVaryStar
	refUncacheable
	refTooLarge
	refIncomplete
	refNotRetained
	refErrors
	refPurged
	refTags
	numRefusals
)

// refusalOf maps a tiercache.Policy reason to a refusal.
func refusalOf(reason string) refusal {
	switch reason {
	case "ResponseNoStore", "RequestNoStore":
		return refNoStore
	case "ResponsePrivate":
		return refPrivate
	case "RequestAuthorizationHeader":
		return refAuthorization
	case "ResponseSetCookie":
		return refSetCookie
	case "ResponseVaryStar":
		return refVaryStar
	}
	return refUncacheable
}

// statsShard is one shard of the counters; the leading pad keeps shards on
// different cache lines.
type statsShard struct {
	_           [64]byte
	outcomes    [numOutcomes]atomic.Uint64
	bytesCache  atomic.Uint64
	bytesOrigin atomic.Uint64
	stores      atomic.Uint64
	refusals    [numRefusals]atomic.Uint64
}

// counters are sharded by a random number drawn once per request, so that
// concurrent requests rarely touch the same cache line; nothing locks.
type counters struct {
	shards                                  []statsShard
	mask                                    uint32
	refreshes, skipped, refreshErrs, panics atomic.Uint64
	limited                                 atomic.Uint64
	running                                 atomic.Int64
	latency                                 latency.Histogram
}

func newCounters() *counters {
	n := 8
	for n < 4*runtime.GOMAXPROCS(0) && n < 64 {
		n *= 2
	}
	return &counters{shards: make([]statsShard, n), mask: uint32(n - 1)}
}

// shard picks the shard of a new request.
func (s *counters) shard() *statsShard { return &s.shards[rand.Uint32()&s.mask] }

// served counts a response served from the cache with n body bytes.
func (sh *statsShard) served(o outcome, n int) {
	if o != outNone {
		sh.outcomes[o].Add(1)
		sh.bytesCache.Add(uint64(n))
	}
}

// count counts an outcome.
func (sh *statsShard) count(o outcome) {
	if o != outNone {
		sh.outcomes[o].Add(1)
	}
}

func (sh *statsShard) refuse(r refusal) { sh.refusals[r].Add(1) }

// observe records the latency of an origin request that started at start.
func (s *counters) observe(start time.Time) { s.latency.Observe(time.Since(start)) }

// Stats returns a snapshot of the Transport's counters. It reads every
// shard (a few hundred atomic loads) and allocates nothing; call it as
// often as a metrics scrape needs.
func (t *Transport) Stats() Stats {
	s := t.stats
	var out Stats
	var o [numOutcomes]uint64
	var r [numRefusals]uint64
	for i := range s.shards {
		sh := &s.shards[i]
		for j := range o {
			o[j] += sh.outcomes[j].Load()
		}
		for j := range r {
			r[j] += sh.refusals[j].Load()
		}
		out.BytesFromCache += sh.bytesCache.Load()
		out.BytesFromOrigin += sh.bytesOrigin.Load()
		out.Stores += sh.stores.Load()
	}
	out.Hits, out.StaleHits, out.Revalidations, out.Misses = o[outHit], o[outStaleHit], o[outRevalidated], o[outMiss]
	out.Uncacheable, out.Bypasses, out.Collapsed = o[outUncacheable], o[outBypass], o[outCollapsed]
	out.StaleOnError, out.OriginErrors = o[outStaleOnError], o[outOriginError]
	out.Refusals = StoreRefusals{
		NoStore: r[refNoStore], Private: r[refPrivate], Authorization: r[refAuthorization],
		SetCookie: r[refSetCookie], VaryStar: r[refVaryStar], Uncacheable: r[refUncacheable],
		TooLarge: r[refTooLarge], Incomplete: r[refIncomplete], NotRetained: r[refNotRetained], Errors: r[refErrors],
		Purged: r[refPurged], Tags: r[refTags],
	}
	out.RateLimited = s.limited.Load()
	if p := t.purge; p != nil {
		out.Purges, out.Purged = p.purges.Load(), p.purged.Load()
		out.PurgeReads, out.PurgeErrors = p.storeReads.Load(), p.storeErrors.Load()
	}
	out.Refreshes, out.RefreshesSkipped = s.refreshes.Load(), s.skipped.Load()
	out.RefreshErrors, out.RefreshesRunning, out.Panics = s.refreshErrs.Load(), s.running.Load(), s.panics.Load()
	out.OriginLatency = tiercache.LatencyStats(s.latency.Summary())
	return out
}
