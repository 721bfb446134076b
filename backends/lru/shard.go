package lru

import (
	"sync"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/tiercache/tiercache"
)

// EntryOverhead is the memory, in bytes, counted for each entry beyond
// Response.Size() and len(key). On 64-bit platforms it is, rounded up to
// allocator size classes:
//
//	112  the simplelru list element (links, key and value headers, unused expiry fields)
//	 48  the map slot (key and element pointer at the map's average load)
//	 96  the *tiercache.Policy
//
// Each request header field the policy varies on adds 32 bytes plus the
// length of its name and value.
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

// shardState is one shard: an LRU and its accounting, all guarded by mu.
type shardState struct {
	mu       sync.Mutex
	closed   bool
	lru      *simplelru.LRU[string, entry]
	bytes    int64 // sum of entry sizes
	maxBytes int64 // immutable after init
	stats    Stats
}

// shard pads shardState to whole cache lines so that shards locked by
// different cores do not share one.
type shard struct {
	shardState
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

// init makes s an empty shard holding at most maxEntries entries (>= 1) and
// maxBytes bytes.
func (s *shard) init(maxEntries int, maxBytes int64) {
	// The callback runs under s.mu on every removal (Remove, RemoveOldest,
	// eviction by count inside Add, Purge): it only adjusts the byte count.
	lru, err := simplelru.NewLRU(maxEntries, func(_ string, e entry) { s.bytes -= e.size })
	if err != nil {
		panic(err) // unreachable: Config.fill guarantees maxEntries >= 1
	}
	s.lru, s.maxBytes = lru, maxBytes
}

// getLocked returns the live entry under key and updates its recency and the
// counters; it removes an entry past its deadline. On a miss it returns the
// zero entry.
func (s *shard) getLocked(key string, now int64) entry {
	e, ok := s.lru.Get(key)
	switch {
	case !ok:
		s.stats.Misses++
		return entry{}
	case now >= e.deadline:
		s.lru.Remove(key)
		s.stats.Expired++
		s.stats.Misses++
		return entry{}
	}
	s.stats.Hits++
	return e
}

// putLocked stores e under key as the most recent entry, then evicts the
// oldest entries until the shard is within its entry and byte budgets. e must
// fit the byte budget on its own, so it is never evicted here.
func (s *shard) putLocked(key string, e entry) {
	if old, ok := s.lru.Peek(key); ok {
		s.bytes -= old.size // Add replaces without calling the callback
	}
	if s.lru.Add(key, e) {
		s.stats.Evictions++
	}
	s.bytes += e.size
	for s.bytes > s.maxBytes {
		s.lru.RemoveOldest()
		s.stats.Evictions++
	}
}

// close marks s closed and drops its entries.
func (s *shard) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.lru.Purge()
}

// Stats are a Manager's counters since New. They are kept under the shard
// locks, so counting costs nothing extra.
type Stats struct {
	Hits      uint64 // Gets that returned an entry
	Misses    uint64 // Gets that returned nothing, including expired entries
	Evictions uint64 // entries removed to keep within MaxEntries or MaxBytes
	Expired   uint64 // entries Get found past their deadline and removed
}

func (s *Stats) add(o Stats) {
	s.Hits += o.Hits
	s.Misses += o.Misses
	s.Evictions += o.Evictions
	s.Expired += o.Expired
}

// Stats returns a snapshot of the counters summed over the shards. It takes
// each shard lock in turn (the sum is not one atomic instant) and does not
// allocate. Safe for concurrent use, also after Close.
func (m *Manager) Stats() Stats {
	var st Stats
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		st.add(s.stats)
		s.mu.Unlock()
	}
	return st
}

// Lookups returns the Get hits and misses so far (tiercache.LookupCounter),
// so that a Layered with this front tier need not count them again. It
// takes each shard lock in turn.
func (m *Manager) Lookups() (hits, misses uint64) {
	st := m.Stats()
	return st.Hits, st.Misses
}

// Len returns the number of entries, expired ones not yet removed included.
// It takes each shard lock in turn and does not allocate. Safe for
// concurrent use.
func (m *Manager) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.lru.Len()
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
		n += s.bytes
		s.mu.Unlock()
	}
	return n
}
