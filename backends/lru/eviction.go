package lru

import (
	"fmt"
	"strings"

	"github.com/tiercache/tiercache"
)

// Eviction selects how a Manager chooses the entries it drops to stay within
// its budgets (Config.Eviction). Every eviction holds MaxEntries and
// MaxBytes exactly and expires entries at their deadline; they differ in
// which entries they keep, and so in hit ratio.
type Eviction uint8

// The evictions. The zero value is LRU.
const (
	// LRU drops the least recently used entry: golang-lru/v2's simplelru.
	LRU Eviction = iota
	// ARC is the Adaptive Replacement Cache of Megiddo and Modha, step for
	// step as golang-lru's arc/v2 implements it (a test replays a trace
	// through both and requires the same hits), on this package's own lists
	// so that a hit takes no second lock and does not allocate, and with
	// byte accounting. It remembers up to MaxEntries/Shards recently evicted
	// keys per shard (ghosts: keys only, not counted in Bytes).
	ARC
	// Adaptive admits a new entry into the main cache only when it is
	// estimated to be requested more often than the entries it would
	// evict, by bytes (W-TinyLFU), with a recency window in front whose
	// share of the cache is hill-climbed online on paired miniature
	// simulations. Frequencies are kept in a count-min sketch with a
	// doorkeeper, halved periodically: 16 bytes per entry of capacity. A
	// refused key that is requested again is admitted (ARC's rule), and so
	// is every key while the sketch is young. ADAPTIVE.md has the design and
	// the hit ratios measured on the ARC paper's traces. A Put may not be
	// admitted (Stats.Rejections): a Get right after it then misses.
	Adaptive
)

var evictionNames = [...]string{LRU: "lru", ARC: "arc", Adaptive: "adaptive"}

// String returns the eviction's name as ParseEviction accepts it.
func (e Eviction) String() string {
	if int(e) < len(evictionNames) {
		return evictionNames[e]
	}
	return fmt.Sprintf("Eviction(%d)", uint8(e))
}

// ParseEviction returns the eviction named s ("lru", "arc" or "adaptive",
// any case), or an error wrapping tiercache.ErrInvalid.
func ParseEviction(s string) (Eviction, error) {
	for i, name := range evictionNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Eviction(i), nil
		}
	}
	return 0, fmt.Errorf("lru: %w: unknown eviction %q (want lru, arc or adaptive)", tiercache.ErrInvalid, s)
}

// evictor is the replacement structure of one shard: it holds the entries
// and keeps them within the shard's budgets. It is not safe for concurrent
// use; the shard's mutex guards it.
type evictor interface {
	// get returns the entry under key and records the access; ok is false
	// on a miss (which Adaptive also records). It does not allocate. h is
	// the Manager's maphash of key, computed before the shard lock (0 when
	// hashed is false).
	get(key string, h uint64) (e entry, ok bool)
	// add stores e under key, replacing any older entry, then evicts until
	// the shard is within its budgets. e fits the byte budget on its own.
	// It returns the number of entries evicted and, of those, how many
	// were new entries refused by admission (Adaptive only).
	add(key string, h uint64, e entry) (evicted, rejected int)
	// remove deletes key if present.
	remove(key string, h uint64)
	// len and bytes return the resident entries and the sum of their sizes.
	len() int
	bytes() int64
	// purge drops every entry.
	purge()
	// each calls fn for every resident entry (tests).
	each(fn func(key string, e entry))
}

// linePad, at both ends of an evictor allocated on its own (ARC,
// Adaptive; LRU lives inside its padded shard), keeps the fields a hit
// reads and writes off the cache lines of whatever the allocator put next
// to it (see Manager for what such false sharing measured).
type linePad [128]byte

// budget is the entry and byte budget of one shard.
type budget struct {
	entries int
	bytes   int64
}

// over reports whether n entries of b bytes exceed the budget.
func (bg budget) over(n int, b int64) bool { return n > bg.entries || b > bg.bytes }

// newEvictor returns an empty evictor of kind ev for a shard budget.
func newEvictor(ev Eviction, bg budget, seed uint64) evictor {
	switch ev {
	case ARC:
		return newARC(bg)
	case Adaptive:
		return newAdaptive(bg, seed)
	}
	return newLRUEvictor(bg)
}

// hashed reports whether evictions of kind ev use the key's hash.
func (ev Eviction) hashed() bool { return ev == Adaptive }
