package lru

import "github.com/hashicorp/golang-lru/v2/simplelru"

// lruEvictor is the LRU eviction: golang-lru/v2's non-locking simplelru,
// bounded by entries, plus a byte count and eviction by bytes.
type lruEvictor struct {
	lru      *simplelru.LRU[string, entry]
	size     int64 // sum of entry sizes
	maxBytes int64
}

func newLRUEvictor(bg budget) *lruEvictor {
	l := new(lruEvictor)
	l.init(bg)
	return l
}

func (l *lruEvictor) init(bg budget) {
	l.maxBytes = bg.bytes
	// The callback runs on every removal (Remove, RemoveOldest, eviction
	// by count inside Add, Purge): it only adjusts the byte count.
	c, err := simplelru.NewLRU(bg.entries, func(_ string, e entry) { l.size -= e.size })
	if err != nil {
		panic(err) // unreachable: Config.fill guarantees entries >= 1
	}
	l.lru = c
}

func (l *lruEvictor) get(key string, _ uint64) (entry, bool) { return l.lru.Get(key) }

func (l *lruEvictor) add(key string, _ uint64, e entry) (evicted, rejected int) {
	if old, ok := l.lru.Peek(key); ok {
		l.size -= old.size // Add replaces without calling the callback
	}
	if l.lru.Add(key, e) {
		evicted++
	}
	l.size += e.size
	for l.size > l.maxBytes {
		l.lru.RemoveOldest()
		evicted++
	}
	return evicted, 0
}

func (l *lruEvictor) remove(key string, _ uint64) { l.lru.Remove(key) }
func (l *lruEvictor) len() int                    { return l.lru.Len() }
func (l *lruEvictor) bytes() int64                { return l.size }
func (l *lruEvictor) purge()                      { l.lru.Purge() }

func (l *lruEvictor) each(fn func(string, entry)) {
	for _, k := range l.lru.Keys() {
		e, _ := l.lru.Peek(k)
		fn(k, e)
	}
}
