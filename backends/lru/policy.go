package lru

// Lists of the W-TinyLFU policy (node.where).
const (
	inNone      uint8 = iota // on no list
	inWindow                 // recency window: every new entry starts here
	inProbation              // main cache, not requested since admission
	inProtected              // main cache, requested again while in it
)

const (
	// protectedShare is the protected segment's share of the main cache.
	// Measured on the ARC traces and the bench's Zipf trace (ADAPTIVE.md):
	// 0.8 (Caffeine's) favours Zipf, 0.5 the large P3 cache; 0.6 holds all.
	protectedShare = 0.6
	// warmTurns is how many times the cache's entry count the sketch must
	// have recorded before it may refuse a candidate (see admit).
	warmTurns = 3
	// floodFloor is the estimate from which a refused candidate is admitted
	// anyway 1 time in 128 (Caffeine's guard against hash flooding).
	floodFloor = 6
	// transferLimit bounds the entries moved between lists per Put after the
	// window's share changed, so that no single Put does O(n) work.
	transferLimit = 1000
)

// policy is the W-TinyLFU replacement of one Adaptive shard and of its
// miniature simulations (climber.go), keyed by a 64-bit hash of the key.
//
// Resident entries are on three LRU lists: the window, and the main cache's
// probation and protected segments. A new entry enters the window. When
// the window is over its share of the budgets its oldest entry becomes a
// candidate for the main cache; while the shard is over its budgets, a
// candidate is admitted only if it is estimated more popular than the
// oldest main entries it would evict to fit, by entries and bytes (admit).
// A refused candidate is dropped. A probation entry that is requested
// moves to protected; protected overflow moves back to probation.
//
// Not safe for concurrent use; the shard's mutex guards it.
type policy struct {
	nodes                        map[uint64]*node
	window, probation, protected list
	bg                           budget
	windowMax, protectedMax      budget
	share                        float64 // the window's share of the budgets
	sk                           sketch
	requests                     uint64 // requests recorded, for warm-up
	rng                          uint64 // xorshift state of the flood guard
	resetDue                     bool   // the sketch is due for halving (done in insert)
}

func (p *policy) init(bg budget, share float64, seed uint64) {
	p.nodes = make(map[uint64]*node)
	p.bg, p.rng = bg, seed|1
	p.window.init()
	p.probation.init()
	p.protected.init()
	p.sk.grow(min(bg.entries, minSketch))
	p.setShare(share)
}

// minSketch is the sketch's initial capacity in entries; it grows with the
// entry count.
const minSketch = 1024

// setShare sets the window's share of the budgets and the list maxima.
func (p *policy) setShare(share float64) {
	p.share = min(max(share, 0), 1)
	p.windowMax = budget{int(p.share * float64(p.bg.entries)), int64(p.share * float64(p.bg.bytes))}
	main := budget{p.bg.entries - p.windowMax.entries, p.bg.bytes - p.windowMax.bytes}
	p.protectedMax = budget{int(protectedShare * float64(main.entries)), int64(protectedShare * float64(main.bytes))}
}

// record counts a request for hash h in the sketch.
func (p *policy) record(h uint64) {
	p.requests++
	if p.sk.add(h) {
		p.resetDue = true
	}
}

// hit records a request for resident n and updates its recency. A key
// whose counters the sketch reported saturated since the last halving is
// only counted (its counters could not change): a hot key's hit does not
// touch the sketch's cache line.
func (p *policy) hit(n *node) {
	p.requests++
	if n.saturated == p.sk.generation() {
		p.resetDue = p.sk.tick() || p.resetDue
	} else {
		due, full := p.sk.addReport(n.hash)
		p.resetDue = due || p.resetDue
		if full {
			n.saturated = p.sk.generation()
		}
	}
	switch n.where {
	case inWindow:
		p.window.moveToBack(n)
	case inProbation:
		p.promote(n)
	default:
		p.protected.moveToBack(n)
	}
}

// promote moves a requested probation entry to protected, demoting the
// oldest protected entries while protected is over its share.
func (p *policy) promote(n *node) {
	if n.size > p.protectedMax.bytes {
		p.probation.moveToBack(n)
		return
	}
	p.probation.unlink(n)
	n.where = inProtected
	p.protected.pushBack(n)
	for p.protectedMax.over(p.protected.len, p.protected.bytes) {
		d := p.protected.front()
		if d == n {
			break
		}
		p.move(d, &p.protected, &p.probation, inProbation)
	}
}

func (p *policy) move(n *node, from, to *list, where uint8) {
	from.unlink(n)
	n.where = where
	to.pushBack(n)
}

// insert adds n, a node on no list whose hash is not in p, to the window
// and evicts until p is within its budgets. It returns the number of
// entries evicted and of candidates refused (included in evicted); each
// is passed to drop after it left p.
func (p *policy) insert(n *node, drop func(*node)) (evicted, refused int) {
	n.refused = p.sk.wasRefused(n.hash)
	n.where = inWindow
	p.nodes[n.hash] = n
	p.window.pushBack(n)
	if p.resetDue {
		p.sk.reset()
		p.resetDue = false
	}
	if len(p.nodes) > p.sk.cap {
		p.sk.grow(min(2*p.sk.cap, p.bg.entries))
	}
	evicted, refused = p.evict(drop)
	p.rebalance(transferLimit)
	return evicted, refused
}

// resize records that resident n changed size from old and evicts until p
// is within its budgets again.
func (p *policy) resize(n *node, old int64, drop func(*node)) (evicted, refused int) {
	p.list(n.where).bytes += n.size - old
	p.list(n.where).moveToBack(n)
	return p.evict(drop)
}

// evict moves the window's overflow to probation as candidates, then drops
// entries until p is within its budgets: each candidate against the oldest
// main entries it would displace.
func (p *policy) evict(drop func(*node)) (evicted, refused int) {
	var cand *node
	for p.window.len > 0 && p.windowMax.over(p.window.len, p.window.bytes) {
		n := p.window.front()
		p.move(n, &p.window, &p.probation, inProbation)
		if cand == nil {
			cand = n
		}
	}
	for p.bg.over(len(p.nodes), p.bytes()) {
		if cand == nil {
			p.remove(p.oldest(), drop)
			evicted++
			continue
		}
		next := p.probation.following(cand)
		if victims := p.admit(cand); victims > 0 {
			for range victims {
				p.remove(p.victimAfter(cand, nil), drop)
			}
			evicted += victims
		} else {
			p.sk.refuse(cand.hash)
			p.remove(cand, drop)
			evicted++
			refused++
		}
		cand = next
	}
	return evicted, refused
}

// admit decides whether candidate c may displace the oldest main entries
// (probation entries older than c, then protected ones) that must go for p
// to be within its budgets with c in it. It returns how many that is, or 0
// to refuse c. c is admitted when
//
//   - its estimate is above the sum of its victims' (by bytes: a large
//     candidate must outweigh every entry it pushes out), or
//   - it was refused lately and is back (ARC's rule: a key evicted from
//     recency and requested again deserves the main cache), or
//   - the sketch has recorded fewer than warmTurns requests per entry: its
//     estimates are no basis for a refusal yet (on a cold cache W-TinyLFU
//     otherwise refuses the recency the first turns need), or
//   - its estimate is at least floodFloor and it wins a 1-in-128 draw.
func (p *policy) admit(c *node) (victims int) {
	needN, needB := len(p.nodes)-p.bg.entries, p.bytes()-p.bg.bytes
	freq := p.sk.estimate(c.hash)
	lenient := c.refused || p.requests < warmTurns*uint64(len(p.nodes))
	sum := 0
	for v := p.victimAfter(c, nil); v != nil && (needN > 0 || needB > 0); v = p.victimAfter(c, v) {
		if sum += p.sk.estimate(v.hash); sum >= freq && !lenient {
			if freq >= floodFloor && p.draw() {
				lenient = true
			} else {
				return 0
			}
		}
		victims++
		needN--
		needB -= v.size
	}
	return victims
}

// draw returns true 1 time in 128 (xorshift64).
func (p *policy) draw() bool {
	p.rng ^= p.rng << 13
	p.rng ^= p.rng >> 7
	p.rng ^= p.rng << 17
	return p.rng&127 == 0
}

// victimAfter returns the victim for candidate c after v (the first when v
// is nil): probation entries older than c, then protected ones.
func (p *policy) victimAfter(c, v *node) *node {
	switch {
	case v == nil:
		if f := p.probation.front(); f != nil && f != c {
			return f
		}
		return p.protected.front()
	case v.where == inProbation:
		if n := p.probation.following(v); n != nil && n != c {
			return n
		}
		return p.protected.front()
	}
	return p.protected.following(v)
}

// oldest returns the entry to drop when there is no candidate: the oldest
// of probation, else of protected, else of the window.
func (p *policy) oldest() *node {
	for _, l := range [...]*list{&p.probation, &p.protected, &p.window} {
		if n := l.front(); n != nil {
			return n
		}
	}
	return nil
}

// remove takes n out of p and passes it to drop (nil: nothing to do).
func (p *policy) remove(n *node, drop func(*node)) {
	p.list(n.where).unlink(n)
	n.where = inNone
	delete(p.nodes, n.hash)
	if drop != nil {
		drop(n)
	}
}

// rebalance moves up to limit entries between the lists so that each is
// within its share after the window's share changed: window overflow to
// probation, main entries into a window with room (oldest first, as
// Caffeine does), protected overflow to probation.
func (p *policy) rebalance(limit int) {
	for ; limit > 0 && p.window.len > 0 && p.windowMax.over(p.window.len, p.window.bytes); limit-- {
		p.move(p.window.front(), &p.window, &p.probation, inProbation)
	}
	for ; limit > 0; limit-- {
		n := p.probation.front()
		if n == nil {
			n = p.protected.front()
		}
		if n == nil || p.windowMax.over(p.window.len+1, p.window.bytes+n.size) {
			break
		}
		p.move(n, p.list(n.where), &p.window, inWindow)
	}
	for ; limit > 0 && p.protected.len > 0 && p.protectedMax.over(p.protected.len, p.protected.bytes); limit-- {
		p.move(p.protected.front(), &p.protected, &p.probation, inProbation)
	}
}

func (p *policy) list(where uint8) *list {
	switch where {
	case inWindow:
		return &p.window
	case inProbation:
		return &p.probation
	}
	return &p.protected
}

func (p *policy) bytes() int64 { return p.window.bytes + p.probation.bytes + p.protected.bytes }

// purge drops every entry; the sketch keeps its counts.
func (p *policy) purge() {
	clear(p.nodes)
	p.window.init()
	p.probation.init()
	p.protected.init()
}
