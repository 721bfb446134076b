package lru

// ARC lists (node.where).
const (
	arcNone uint8 = iota // dropped from every list
	arcT1                // resident, seen once recently
	arcT2                // resident, seen at least twice
	arcB1                // ghost of an entry evicted from T1
	arcB2                // ghost of an entry evicted from T2
)

// arcEvictor is the ARC eviction. Its steps are those of golang-lru's
// arc/v2 ARCCache (Get, Add, replace), with two additions for byte budgets:
// room is made by replace until the new entry fits the bytes too, and the
// ghost lists are bounded by the most entries ever resident (c) instead of
// MaxEntries, which a byte-bound shard never reaches. With an entry budget
// only, c is MaxEntries once the shard has filled, as in arc/v2 (see
// TestARCMatchesGolangLRU).
type arcEvictor struct {
	_              linePad
	nodes          map[string]*node
	t1, t2, b1, b2 list
	p              int // target size of T1, in [0, c]
	c              int // the most entries ever resident, at most bg.entries
	bg             budget
	_              linePad
}

func newARC(bg budget) *arcEvictor {
	a := &arcEvictor{nodes: make(map[string]*node), bg: bg}
	a.purge()
	return a
}

func (a *arcEvictor) resident() int { return a.t1.len + a.t2.len }

func (a *arcEvictor) get(key string, _ uint64) (entry, bool) {
	n, ok := a.nodes[key]
	switch {
	case !ok:
		return entry{}, false
	case n.where == arcT1:
		a.t1.unlink(n)
		n.where = arcT2
		a.t2.pushBack(n)
	case n.where == arcT2:
		a.t2.moveToBack(n)
	default: // a ghost
		return entry{}, false
	}
	return n.entry, true
}

func (a *arcEvictor) add(key string, _ uint64, e entry) (evicted, rejected int) {
	n, ok := a.nodes[key]
	if !ok {
		return a.addNew(key, e), 0
	}
	switch n.where {
	case arcT1, arcT2:
		a.list(n.where).unlink(n)
		n.entry, n.where = e, arcT2
		a.t2.pushBack(n)
		for a.t1.bytes+a.t2.bytes > a.bg.bytes && a.replace(false, n) {
			evicted++
		}
		return evicted, 0
	case arcB1:
		// T1 was too small: grow its target.
		a.p = min(a.p+max(1, a.b2.len/max(a.b1.len, 1)), a.c)
		evicted = a.makeRoom(e.size, false)
	default: // arcB2: T2 was too small
		a.p = max(a.p-max(1, a.b1.len/max(a.b2.len, 1)), 0)
		evicted = a.makeRoom(e.size, true)
	}
	if n.where == arcNone { // makeRoom dropped the ghost itself
		a.nodes[key] = n
	} else {
		a.list(n.where).unlink(n)
	}
	n.entry, n.where = e, arcT2
	a.t2.pushBack(n)
	a.grow()
	return evicted, 0
}

// addNew adds a key that has no node, as a recent (T1) entry.
func (a *arcEvictor) addNew(key string, e entry) (evicted int) {
	evicted = a.makeRoom(e.size, false)
	if a.b1.len > a.c-a.p {
		a.dropGhost(&a.b1)
	}
	if a.b2.len > a.p {
		a.dropGhost(&a.b2)
	}
	n := &node{key: key, entry: e, where: arcT1}
	a.nodes[key] = n
	a.t1.pushBack(n)
	a.grow()
	return evicted
}

// makeRoom replaces entries until one more entry of size bytes fits both
// budgets. b2Hit is arc/v2's b2ContainsKey.
func (a *arcEvictor) makeRoom(size int64, b2Hit bool) (evicted int) {
	for (a.resident() >= a.bg.entries || a.t1.bytes+a.t2.bytes+size > a.bg.bytes) && a.replace(b2Hit, nil) {
		evicted++
	}
	return evicted
}

// replace evicts the oldest entry of T1 or T2, as ARC's target p says, into
// its ghost list. It never picks keep (an entry just updated in place). It
// reports whether it evicted anything.
func (a *arcEvictor) replace(b2Hit bool, keep *node) bool {
	fromT1 := a.t1.len > 0 && (a.t1.len > a.p || (a.t1.len == a.p && b2Hit))
	v := a.t2.front()
	if fromT1 {
		v = a.t1.front()
	}
	if v == keep || v == nil {
		fromT1 = !fromT1
		if v = a.t2.front(); fromT1 {
			v = a.t1.front()
		}
	}
	if v == nil || v == keep {
		return false
	}
	if fromT1 {
		a.t1.unlink(v)
		a.toGhost(v, &a.b1, arcB1)
	} else {
		a.t2.unlink(v)
		a.toGhost(v, &a.b2, arcB2)
	}
	return true
}

// toGhost makes v a ghost on b, dropping b's oldest ghost when b exceeds c
// (a simplelru of size c in arc/v2).
func (a *arcEvictor) toGhost(v *node, b *list, where uint8) {
	v.entry, v.where = entry{}, where
	b.pushBack(v)
	if b.len > max(a.c, 1) {
		a.dropGhost(b)
	}
}

func (a *arcEvictor) dropGhost(b *list) {
	g := b.front()
	if g == nil {
		return
	}
	b.unlink(g)
	g.where = arcNone
	delete(a.nodes, g.key)
}

// grow raises c to the resident count, up to the entry budget.
func (a *arcEvictor) grow() { a.c = max(a.c, min(a.resident(), a.bg.entries)) }

func (a *arcEvictor) list(where uint8) *list {
	switch where {
	case arcT1:
		return &a.t1
	case arcT2:
		return &a.t2
	case arcB1:
		return &a.b1
	}
	return &a.b2
}

func (a *arcEvictor) remove(key string, _ uint64) {
	if n, ok := a.nodes[key]; ok {
		a.list(n.where).unlink(n)
		n.where = arcNone
		delete(a.nodes, key)
	}
}

func (a *arcEvictor) len() int     { return a.resident() }
func (a *arcEvictor) bytes() int64 { return a.t1.bytes + a.t2.bytes }

func (a *arcEvictor) purge() {
	clear(a.nodes)
	a.t1.init()
	a.t2.init()
	a.b1.init()
	a.b2.init()
	a.p = 0
}

func (a *arcEvictor) each(fn func(string, entry)) {
	for _, n := range a.nodes {
		if n.where == arcT1 || n.where == arcT2 {
			fn(n.key, n.entry)
		}
	}
}
