package lru

// climber tunes the window share of an Adaptive shard by hill climbing, as
// Caffeine does, with one change: the direction of each step is decided by
// two miniature simulations (Waldspurger et al., "Cache Modeling and
// Optimization using Miniature Simulations", USENIX ATC '17) rather than
// by comparing the hit ratios of successive samples.
//
// Caffeine's climber (Einziger et al., "Adaptive Software Cache
// Management", Middleware 2018) compares the hit ratio of each sample of
// 10 requests per entry with the previous sample's. On the ARC traces that
// signal is dominated by the workload's own phase changes and the samples
// are few (3 in the whole P3 trace at 131,072 entries): measured, it ends
// 1.5 to 3 points below a good fixed window (ADAPTIVE.md). Here two small
// W-TinyLFU policies, one a rung below the shard's window share and one a
// rung above, replay the same sample of the shard's keys (1 key in 2^bits,
// chosen by hash, with budgets scaled by 2^-bits, at least minSimEntries
// entries). Both see the same requests at the same time, so the workload's
// variations cancel out of their difference. After each sample of 1
// request per simulated entry (up to 4 once the climb has turned back,
// near the top), the shard's share steps one rung towards the simulation
// that hit more, if the difference is significant (decide); the
// simulations move with it and keep their contents. Until the climb first
// turns back, a sample that ends without a significant difference moves
// the simulations one more rung out (up to maxSpan): a workload can start
// on a plateau where neighbouring rungs hit alike although a far one hits
// much more (TestAdaptiveClimbs: 3 seeds in 400 stayed at 1% on one).
//
// Cost: a sampled request, 1 in 64 once a shard holds 32,768 entries (1 in
// 2 from 512 to 1,023 entries; smaller shards do not climb), does the work
// of two more small-cache requests; memory is two policies of 2^-bits the
// shard's entries (about 3 bytes per entry for large shards, 100 for the
// smallest). Simulated nodes are recycled, so a Get does not allocate.
type climber struct {
	bits           uint // a key is sampled when the top bits of its third mix are 0
	rung           int  // index into windowShares of the shard's share
	span           int  // the simulations are span rungs below and above rung
	lo, hi         policy
	loOnly, hiOnly int         // sampled requests that hit in one simulation only
	n              int         // sampled requests in the current sample
	turns          int         // sampled requests per decision, per simulated entry
	dir            int         // direction of the last step: -1, 0, +1
	free           *node       // nodes the simulations dropped, linked by next
	drop           func(*node) // recycle, built once
	on             bool        // simulating
	tried          bool        // start was called
}

// windowShares are the rungs of the window share.
var windowShares = [...]float64{0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9}

const (
	initialRung   = 2 // 1%, W-TinyLFU's default
	maxSampleBits = 6 // sample at most 1 key in 64
	// minSimEntries is the least a simulation holds: with fewer, the low
	// rungs are a few entries apart and the climb stalls (measured at 64
	// and 256 entries, ADAPTIVE.md).
	minSimEntries = 512
	firstTurns    = 1 // sampled requests per decision and simulated entry, at first
	maxTurns      = 4 // ... after the climb has turned back twice
	maxSpan       = 3 // rungs between the shard's share and a simulation's, at most
	sampleMix     = 0xd6e8feb86659fd93
)

// start sizes the simulations for a shard that holds entries entries now
// (the first time it is full); shards too small to simulate never climb.
func (c *climber) start(bg budget, entries int, seed uint64) {
	if entries < minSimEntries {
		return
	}
	// Half the keys at most, so that a small shard's requests cost at most
	// one more simulated request on average.
	for c.bits = 1; c.bits < maxSampleBits && entries>>(c.bits+1) >= minSimEntries; c.bits++ {
	}
	sim := budget{max(bg.entries>>c.bits, 1), max(bg.bytes>>c.bits, 1)}
	c.turns = firstTurns
	c.drop = c.recycle
	c.span = 1
	c.lo.init(sim, c.shareAt(-c.span), seed+1)
	c.hi.init(sim, c.shareAt(c.span), seed+2)
	c.on = true
}

// sampled reports whether the key of hash h is simulated.
func (c *climber) sampled(h uint64) bool { return (h*sampleMix)>>(64-c.bits) == 0 }

// request replays a sampled Get of hash h; n is the shard's node on a hit,
// whose size the simulations take when they miss (on a shard miss they
// take the key at the Put that follows, see insert). It reports whether the
// shard's share changed.
func (c *climber) request(h uint64, n *node) bool {
	lo, hi := c.simulate(&c.lo, h, n), c.simulate(&c.hi, h, n)
	c.loOnly += lo &^ hi
	c.hiOnly += hi &^ lo
	per := max(len(c.lo.nodes), minSimEntries)
	if c.n++; c.n < c.turns*per {
		return false
	}
	return c.decide(c.n >= maxTurns*per)
}

func (c *climber) simulate(p *policy, h uint64, n *node) int {
	if s := p.nodes[h]; s != nil {
		p.hit(s)
		return 1
	}
	p.record(h)
	if n != nil {
		p.insert(c.node(h, n.size), c.drop)
	}
	return 0
}

// node returns a simulated node for hash h and size bytes, reusing one the
// simulations dropped: in a steady state they evict as many as they insert,
// so simulating allocates nothing (a Get hit stays allocation-free).
func (c *climber) node(h uint64, size int64) *node {
	n := c.free
	if n == nil {
		n = new(node)
	} else {
		c.free = n.next
	}
	*n = node{hash: h, entry: entry{size: size}}
	return n
}

// recycle keeps a node a simulation dropped for node.
func (c *climber) recycle(n *node) {
	n.next = c.free
	c.free = n
}

// insert replays the Put of a new sampled key of hash h and size bytes.
func (c *climber) insert(h uint64, size int64) {
	for _, p := range [...]*policy{&c.lo, &c.hi} {
		if p.nodes[h] == nil {
			p.insert(c.node(h, size), c.drop)
		}
	}
}

// remove replays a Delete of a sampled key.
func (c *climber) remove(h uint64) {
	for _, p := range [...]*policy{&c.lo, &c.hi} {
		if n := p.nodes[h]; n != nil {
			p.remove(n, c.drop)
		}
	}
}

// decide steps one rung towards the better simulation when the difference
// is significant: of the requests that hit in exactly one simulation, one
// side has more by at least twice the standard deviation of a fair coin
// (McNemar's test for paired outcomes). Otherwise it keeps sampling, up to
// last, where it ends the sample without a step, and, before the first turn
// back, with the simulations one rung further out. A turn back brings them
// back to the neighbouring rungs.
func (c *climber) decide(last bool) bool {
	d, disc := c.hiOnly-c.loOnly, c.hiOnly+c.loOnly
	significant := d*d >= 4*disc && d != 0
	if !significant && !last {
		return false
	}
	rung := c.rung
	switch {
	case significant && d > 0:
		c.rung = min(c.rung+1, len(windowShares)-1)
	case significant:
		c.rung = max(c.rung-1, 0)
	}
	c.n, c.loOnly, c.hiOnly = 0, 0, 0
	if c.rung == rung {
		if c.span == maxSpan || c.turns > firstTurns {
			return false
		}
		c.span++ // a plateau: probe further out
	} else if dir := c.rung - rung; dir != c.dir {
		if c.dir != 0 {
			c.turns = min(2*c.turns, maxTurns) // turned back: near the top, sample longer
			c.span = 1
		}
		c.dir = dir
	}
	c.lo.setShare(c.shareAt(-c.span))
	c.hi.setShare(c.shareAt(c.span))
	return c.rung != rung
}

// shareAt returns the window share off rungs from the shard's.
func (c *climber) shareAt(off int) float64 {
	return windowShares[min(max(c.rung+off, 0), len(windowShares)-1)]
}

// share returns the window share of the current rung.
func (c *climber) share() float64 { return windowShares[c.rung] }
