package lru

// adaptiveEvictor is the Adaptive eviction: a W-TinyLFU policy over the
// shard's entries (policy.go) whose window share a climber tunes
// (climber.go). Keys are looked up by a 64-bit hash, a remix of the
// Manager's maphash (computed before the shard lock); a node keeps its
// key, so that two keys with the same hash (a 2^-64 chance per pair) never
// read each other's entry: the later Put replaces the other key's entry.
type adaptiveEvictor struct {
	_    linePad
	p    policy
	cl   climber
	salt uint64
	drop func(*node) // releases an evicted node's values (built once)
	_    linePad
}

func newAdaptive(bg budget, salt uint64) *adaptiveEvictor {
	a := &adaptiveEvictor{salt: salt}
	a.cl.rung = initialRung
	a.p.init(bg, windowShares[initialRung], salt)
	a.drop = func(n *node) { n.key, n.entry = "", entry{} }
	return a
}

// remix spreads the Manager's hash, whose low bits choose the shard and so
// are the same for every key of a shard, over all 64 bits (the finalizer
// of MurmurHash3; a bijection, so distinct hashes stay distinct).
func remix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

func (a *adaptiveEvictor) get(key string, h uint64) (entry, bool) {
	h = remix(h)
	n := a.p.nodes[h]
	if n == nil || n.key != key {
		a.p.record(h)
		n = nil
	} else {
		a.p.hit(n)
	}
	if a.cl.on && a.cl.sampled(h) && a.cl.request(h, n) {
		a.p.setShare(a.cl.share())
	}
	if n == nil {
		return entry{}, false
	}
	return n.entry, true
}

func (a *adaptiveEvictor) add(key string, h uint64, e entry) (evicted, rejected int) {
	h = remix(h)
	if n := a.p.nodes[h]; n != nil {
		if n.key == key {
			old := n.size
			n.entry = e
			return a.p.resize(n, old, a.drop)
		}
		a.p.remove(n, a.drop) // a hash collision: the other key loses
	}
	if a.cl.on && a.cl.sampled(h) {
		a.cl.insert(h, e.size)
	}
	evicted, rejected = a.p.insert(&node{key: key, hash: h, entry: e}, a.drop)
	if evicted > 0 && !a.cl.tried {
		a.cl.tried = true
		a.cl.start(a.p.bg, len(a.p.nodes), a.salt)
	}
	return evicted, rejected
}

func (a *adaptiveEvictor) remove(key string, h uint64) {
	h = remix(h)
	if n := a.p.nodes[h]; n != nil && n.key == key {
		if a.cl.on && a.cl.sampled(h) {
			a.cl.remove(h)
		}
		a.p.remove(n, a.drop)
	}
}

func (a *adaptiveEvictor) len() int     { return len(a.p.nodes) }
func (a *adaptiveEvictor) bytes() int64 { return a.p.bytes() }
func (a *adaptiveEvictor) purge()       { a.p.purge() }

func (a *adaptiveEvictor) each(fn func(string, entry)) {
	for _, n := range a.p.nodes {
		fn(n.key, n.entry)
	}
}
