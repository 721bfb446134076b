package httpcache

import (
	"sync"
	"sync/atomic"
	"time"
)

// genValue is what a process knows of one tag's generation. It is
// immutable; a tagState swaps in a new one.
type genValue struct {
	gen      uint64        // current generation; 0: unknown (matches no entry)
	purgedAt int64         // Unix ns of the purge that set gen, by the purger's clock; 0: none known
	checked  time.Duration // when the store was last read for it (the read's start), on the process clock
	since    time.Duration // when this process saw gen replace another one; 0: never (first sight)
	version  uint64        // bumped at every change, so a slow read cannot undo a newer value
}

// tagState holds the current genValue of one tag (or URL bucket). Writers
// hold mu; readers load v without locking.
type tagState struct {
	mu sync.Mutex
	v  atomic.Pointer[genValue]
}

// load returns the current value (nil before the first read).
func (s *tagState) load() *genValue { return s.v.Load() }

// version returns the version a read started now must still find to be
// applied.
func (s *tagState) version() uint64 {
	if v := s.v.Load(); v != nil {
		return v.version
	}
	return 0
}

// apply installs gen as read from the store by a read that started at
// start, when the state was at version ver, and ended at done. It is
// skipped, and the current value returned, when something newer (a purge,
// a bus message, another read) was installed meanwhile. The value is
// trusted from start (the store may have changed right after it), and a
// change of generation counts as seen at done (it may have happened just
// before).
func (s *tagState) apply(gen uint64, purgedAt int64, start, done time.Duration, ver uint64) *genValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.v.Load()
	if cur != nil && cur.version != ver {
		return cur
	}
	return s.installLocked(cur, gen, purgedAt, start, done, false)
}

// set installs gen learnt at now outside a read: a purge of this process
// (trusted from now: the store holds gen) or a bus message (trusted no
// longer than the value it replaces: the message may be older than a
// purge whose message was lost).
func (s *tagState) set(gen uint64, purgedAt int64, now time.Duration, trusted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.v.Load()
	checked := now
	if !trusted {
		checked = -1 << 62 // stale: the next lookup reads the store
		if cur != nil {
			checked = cur.checked
		}
	}
	s.installLocked(cur, gen, purgedAt, checked, now, trusted)
}

// installLocked installs gen, seen at now; changed says it is known to be
// new (this process's own purge) even without a previous value.
func (s *tagState) installLocked(cur *genValue, gen uint64, purgedAt int64, checked, now time.Duration, changed bool) *genValue {
	v := &genValue{gen: gen, purgedAt: purgedAt, checked: checked, version: 1}
	if cur != nil {
		v.version = cur.version + 1
		v.since = cur.since
		changed = changed || cur.gen != gen
	}
	if changed {
		v.since = now
	}
	s.v.Store(v)
	return v
}

// stateShards is the number of shards of a stateTable (a power of two).
const stateShards = 64

// maxStatesPerShard is the size past which a shard drops the states it no
// longer trusts when it grows (they would have to be read again anyway).
const maxStatesPerShard = 1024

// stateTable maps tag hashes to their states. Lookups take no lock: each
// shard's map is replaced, never modified, when a state is added
// (copy-on-write; adding is rare, once per tag per process).
type stateTable struct {
	shards [stateShards]stateShard
}

type stateShard struct {
	m  atomic.Pointer[map[uint64]*tagState]
	mu sync.Mutex
	_  [40]byte // keeps shards on different cache lines
}

// get returns the state of hash h, adding it when absent. now and maxAge
// decide which states a full shard may drop.
func (t *stateTable) get(h uint64, now, maxAge time.Duration) *tagState {
	sh := &t.shards[h&(stateShards-1)]
	if m := sh.m.Load(); m != nil {
		if s := (*m)[h]; s != nil {
			return s
		}
	}
	return sh.add(h, now, maxAge)
}

func (sh *stateShard) add(h uint64, now, maxAge time.Duration) *tagState {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var old map[uint64]*tagState
	if m := sh.m.Load(); m != nil {
		old = *m
	}
	if s := old[h]; s != nil {
		return s
	}
	prune := len(old) >= maxStatesPerShard
	m := make(map[uint64]*tagState, len(old)+1)
	for k, s := range old {
		if v := s.load(); prune && (v == nil || now-v.checked >= maxAge) {
			continue
		}
		m[k] = s
	}
	s := &tagState{}
	m[h] = s
	sh.m.Store(&m)
	return s
}
