package disk

import "sync"

// entry is the in-memory record of one entry file. h, size and deadline are
// immutable once the entry is published; prev and next belong to the index
// and change only under its lock.
type entry struct {
	h          keyHash
	size       int64 // file size in bytes
	deadline   int64 // Unix nanoseconds
	prev, next *entry
}

// index maps key hashes to entries, keeps them in least-recently-used order
// and accounts for the bytes the files take. It is exact LRU: every hit moves
// the entry to the front. Recency lives only in memory; on open it is seeded
// from the files' modification times.
//
// used counts committed entries plus the reservations of Puts in flight, so
// concurrent Puts together stay within max once they have committed.
type index struct {
	mu   sync.Mutex
	m    map[keyHash]*entry
	lru  entry // sentinel: lru.next is the most recent, lru.prev the least
	used int64
	max  int64
}

func newIndex(max int64) *index {
	x := &index{m: make(map[keyHash]*entry), max: max}
	x.lru.next, x.lru.prev = &x.lru, &x.lru
	return x
}

func (x *index) unlinkLocked(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (x *index) pushFrontLocked(e *entry) {
	e.prev, e.next = &x.lru, x.lru.next
	x.lru.next.prev = e
	x.lru.next = e
}

func (x *index) deleteLocked(e *entry) {
	x.unlinkLocked(e)
	delete(x.m, e.h)
	x.used -= e.size
}

// evictLocked removes least recently used entries, never keep, until used
// fits in max or nothing else is left. It appends the victims to out.
func (x *index) evictLocked(keep *entry, out []*entry) []*entry {
	for x.used > x.max {
		v := x.lru.prev
		if v == &x.lru || v == keep {
			break
		}
		x.deleteLocked(v)
		out = append(out, v)
	}
	return out
}

// touch returns the entry for h and marks it most recently used.
func (x *index) touch(h keyHash) *entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.m[h]
	if e != nil && x.lru.next != e {
		x.unlinkLocked(e)
		x.pushFrontLocked(e)
	}
	return e
}

// lookup returns the entry for h without changing its recency.
func (x *index) lookup(h keyHash) *entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.m[h]
}

// reserve accounts n bytes for a Put in flight and evicts entries until the
// total fits; it returns the evicted entries, whose files the caller removes.
func (x *index) reserve(n int64) []*entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.used += n
	return x.evictLocked(nil, nil)
}

// release returns a reservation of a Put that failed.
func (x *index) release(n int64) {
	x.mu.Lock()
	x.used -= n
	x.mu.Unlock()
}

// commit publishes e, whose size was reserved, replacing any older entry for
// the same hash (its file was just replaced). It returns further victims
// when reservations of concurrent Puts left the total above max.
func (x *index) commit(e *entry) []*entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old := x.m[e.h]; old != nil {
		x.deleteLocked(old)
	}
	x.m[e.h] = e
	x.pushFrontLocked(e)
	return x.evictLocked(e, nil)
}

// remove deletes the entry for h when it is e, or any entry for h when e is
// nil. It reports whether something was removed.
func (x *index) remove(h keyHash, e *entry) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	cur := x.m[h]
	if cur == nil || (e != nil && cur != e) {
		return false
	}
	x.deleteLocked(cur)
	return true
}

// expired returns the entries whose deadline is at or before now. It holds
// the lock for one pass over the map.
func (x *index) expired(now int64) []*entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []*entry
	for _, e := range x.m {
		if expired(e.deadline, now) {
			out = append(out, e)
		}
	}
	return out
}

// load adds entries found on open, oldest first, and evicts down to max.
func (x *index) load(es []*entry) []*entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range es {
		x.m[e.h] = e
		x.pushFrontLocked(e)
		x.used += e.size
	}
	return x.evictLocked(nil, nil)
}

// totals returns the number of entries and the bytes accounted.
func (x *index) totals() (int, int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.m), x.used
}
