package lru

import (
	"sync"
	"unsafe"

	"github.com/tiercache/tiercache"
)

// EntryOverhead is the memory, in bytes, counted for each entry beyond
// Response.Size() and len(key). On 64-bit platforms it is, rounded up to
// allocator size classes, for LRU:
//
//	112  the simplelru list element (links, key and value headers, unused expiry fields)
//	 48  the map slot (key and element pointer at the map's average load)
//	 96  the *tiercache.Policy
//
// ARC and Adaptive keep an 80-byte node and a smaller map slot (24 and 16
// bytes plus load) instead. Beside the entries, and not counted: Adaptive
// keeps 16 bytes of sketch per entry of capacity and its climber's two
// simulations (about 100 bytes per simulated entry: 3 bytes per entry for
// shards of 32,768 entries or more, up to 100 for shards under 1,024, which
// simulate half the keys; climber.go); ARC remembers up to one evicted key per
// entry of capacity (a ghost: node, map slot and the key's bytes, about 110
// bytes plus the key). Each request header field the policy varies on adds
// 32 bytes plus the length of its name and value.
const EntryOverhead = 256

// varyFieldOverhead is the two string headers of a tiercache.VaryField.
const varyFieldOverhead = 32

// entry is the value kept in the LRU, by value (no allocation of its own).
type entry struct {
	resp     *tiercache.Response
	pol      *tiercache.Policy
	deadline int64 // Unix nanoseconds at which the entry expires
	size     int64 // bytes counted for the entry
}

// entrySize returns the bytes counted for key, resp and pol.
func entrySize(key string, resp *tiercache.Response, pol *tiercache.Policy) int64 {
	n := int64(resp.Size()) + int64(len(key)) + EntryOverhead
	for _, f := range pol.Vary() {
		n += int64(varyFieldOverhead + len(f.Name) + len(f.Value))
	}
	return n
}

// shardState is one shard: an evictor and its counters, all guarded by mu.
type shardState struct {
	mu       sync.Mutex
	closed   bool
	ev       evictor
	maxBytes int64 // immutable after init
	stats    counters
	lru      lruEvictor // ev when Eviction is LRU, kept inside the padded shard
}

// shard pads shardState to whole cache lines so that shards locked by
// different cores do not share one.
type shard struct {
	shardState
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

// init makes s an empty shard of eviction ev holding at most bg.entries
// entries (>= 1) and bg.bytes bytes.
func (s *shard) init(ev Eviction, bg budget, seed uint64) {
	s.maxBytes = bg.bytes
	if ev == LRU {
		s.lru.init(bg)
		s.ev = &s.lru
		return
	}
	s.ev = newEvictor(ev, bg, seed)
}

// getLocked returns the live entry under key and updates its recency and the
// counters; it removes an entry past its deadline. On a miss it returns the
// zero entry.
func (s *shard) getLocked(key string, h uint64, now int64) entry {
	e, ok := s.ev.get(key, h)
	switch {
	case !ok:
		s.stats.misses++
		return entry{}
	case now >= e.deadline:
		s.ev.remove(key, h)
		s.stats.expired++
		s.stats.misses++
		return entry{}
	}
	s.stats.hits++
	return e
}

// putLocked stores e under key, then evicts until the shard is within its
// entry and byte budgets. e must fit the byte budget on its own.
func (s *shard) putLocked(key string, h uint64, e entry) {
	evicted, rejected := s.ev.add(key, h, e)
	s.stats.evictions += uint64(evicted)
	s.stats.rejections += uint64(rejected)
}

// close marks s closed and drops its entries.
func (s *shard) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.ev.purge()
}

// counters are a shard's monotonic counts, kept under its lock.
type counters struct {
	hits, misses, evictions, expired, rejections uint64
}

// Stats is a snapshot of a Manager's counters since New (monotonic,
// uint64) and of its current size (gauges, int64). The counters are kept
// under the shard locks, so counting costs nothing extra.
type Stats struct {
	Hits       uint64 // Gets that returned an entry
	Misses     uint64 // Gets that returned nothing, including expired entries
	Evictions  uint64 // entries removed to keep within MaxEntries or MaxBytes
	Expired    uint64 // entries Get found past their deadline and removed
	Rejections uint64 // of the Evictions, new entries Adaptive did not admit to its main cache (0 for LRU and ARC)
	Entries    int64  // entries held now, expired ones not yet removed included
	Bytes      int64  // bytes counted for the entries held now (see EntryOverhead)
}

func (st *Stats) add(s *shard) {
	c := s.stats
	st.Hits += c.hits
	st.Misses += c.misses
	st.Evictions += c.evictions
	st.Expired += c.expired
	st.Rejections += c.rejections
	st.Entries += int64(s.ev.len())
	st.Bytes += s.ev.bytes()
}

// Stats returns a snapshot of the counters and gauges summed over the
// shards. It takes each shard lock in turn (the sum is not one atomic
// instant) and does not allocate. Safe for concurrent use, also after
// Close (when Entries and Bytes are 0).
func (m *Manager) Stats() Stats {
	var st Stats
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		st.add(s)
		s.mu.Unlock()
	}
	return st
}

// Lookups returns the Get hits and misses so far (tiercache.LookupCounter),
// so that a Layered with this front tier need not count them again. It
// takes each shard lock in turn.
func (m *Manager) Lookups() (hits, misses uint64) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		hits, misses = hits+s.stats.hits, misses+s.stats.misses
		s.mu.Unlock()
	}
	return hits, misses
}

// Len returns the number of entries, expired ones not yet removed included.
// It takes each shard lock in turn and does not allocate. Safe for
// concurrent use.
func (m *Manager) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.ev.len()
		s.mu.Unlock()
	}
	return n
}

// Bytes returns the bytes counted for all entries (see EntryOverhead); it is
// at most Config.MaxBytes. It takes each shard lock in turn and does not
// allocate. Safe for concurrent use.
func (m *Manager) Bytes() int64 {
	var n int64
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.ev.bytes()
		s.mu.Unlock()
	}
	return n
}
