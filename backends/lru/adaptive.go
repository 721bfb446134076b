package lru

import "hash/maphash"

// Adaptive lists (node.where).
const (
	adNone      uint8 = iota // on no list
	adWindow                 // recency window: every new entry starts here
	adProbation              // main cache, seen once since admission
	adProtected              // main cache, requested again while in it
)

// tuning holds the Adaptive parameters (see adaptive_notes.md for what
// each is worth on the traces).
type tuning struct {
	window     float64 // initial window share of the budgets
	protected  float64 // protected share of the main cache's budgets
	sample     float64 // climber sample, in requests per entry of capacity
	step       float64 // climber's initial step, a share of the budgets
	decay      float64 // step decay per sample
	restart    float64 // hit-ratio change that restarts the climber
	hashdos    int     // estimate from which a refused candidate may be admitted at random
	transfer   int     // most nodes moved between lists per Put when shares change
	minSketch  int     // the sketch's initial capacity in entries
	sumVictims bool    // compare a candidate with the sum of its victims' estimates (else the largest)
}

var tune = tuning{
	window: 0.01, protected: 0.80,
	sample: 10, step: 0.0625, decay: 0.98, restart: 0.05,
	hashdos: 6, transfer: 1000, minSketch: 1024, sumVictims: true,
}

// adaptiveEvictor is the Adaptive eviction (see the package doc and
// Adaptive). Resident entries are on three LRU lists: the window, and the
// main cache's probation and protected segments. A new entry enters the
// window; when the window is over its share, its oldest entry becomes a
// candidate for the main cache and is admitted only if the sketch
// estimates it more popular than the entries it would evict (by bytes);
// otherwise the candidate is dropped. A probation entry that is requested
// moves to protected; protected overflow moves back to probation. The
// window's share is tuned by a hill climber on the hit ratio.
type adaptiveEvictor struct {
	nodes                        map[string]*node
	window, probation, protected list
	bg                           budget
	windowMax, protectedMax      budget
	share                        float64 // the window's share of the budgets
	seed                         maphash.Seed
	sk                           sketch
	cl                           climber
	rng                          uint64 // xorshift state for the hash-flooding guard
	resetDue                     bool   // the sketch is due for halving (done in add)
}

func newAdaptive(bg budget, seed uint64) *adaptiveEvictor {
	a := &adaptiveEvictor{
		nodes: make(map[string]*node), bg: bg,
		seed: maphash.MakeSeed(), rng: seed | 1,
	}
	a.window.init()
	a.probation.init()
	a.protected.init()
	a.sk.grow(min(bg.entries, tune.minSketch))
	a.cl.init(tune.step)
	a.setShare(tune.window)
	return a
}

// setShare sets the window's share of the budgets and the region maxima.
func (a *adaptiveEvictor) setShare(share float64) {
	a.share = min(max(share, 0), 1)
	a.windowMax = budget{int(a.share * float64(a.bg.entries)), int64(a.share * float64(a.bg.bytes))}
	main := budget{a.bg.entries - a.windowMax.entries, a.bg.bytes - a.windowMax.bytes}
	a.protectedMax = budget{int(tune.protected * float64(main.entries)), int64(tune.protected * float64(main.bytes))}
}

func (a *adaptiveEvictor) get(key string) (entry, bool) {
	n, ok := a.nodes[key]
	if !ok {
		a.record(maphash.String(a.seed, key))
		a.cl.misses++
		return entry{}, false
	}
	a.record(n.hash)
	a.cl.hits++
	switch n.where {
	case adWindow:
		a.window.moveToBack(n)
	case adProbation:
		a.promote(n)
	default:
		a.protected.moveToBack(n)
	}
	return n.entry, true
}

// record counts a request in the sketch; a due reset waits for add.
func (a *adaptiveEvictor) record(h uint64) {
	if a.sk.add(h) {
		a.resetDue = true
	}
}

// promote moves a requested probation entry to protected, demoting the
// oldest protected entries while protected is over its share.
func (a *adaptiveEvictor) promote(n *node) {
	if n.size > a.protectedMax.bytes {
		a.probation.moveToBack(n)
		return
	}
	a.probation.unlink(n)
	n.where = adProtected
	a.protected.pushBack(n)
	for a.protectedMax.over(a.protected.len, a.protected.bytes) {
		d := a.protected.front()
		if d == n {
			break
		}
		a.protected.unlink(d)
		d.where = adProbation
		a.probation.pushBack(d)
	}
}

func (a *adaptiveEvictor) add(key string, e entry) (evicted, rejected int) {
	if n, ok := a.nodes[key]; ok {
		l := a.list(n.where)
		l.bytes += e.size - n.size
		n.entry = e
		l.moveToBack(n)
	} else {
		n := &node{key: key, hash: maphash.String(a.seed, key), entry: e, where: adWindow}
		a.nodes[key] = n
		a.window.pushBack(n)
	}
	if a.resetDue {
		a.sk.reset()
		a.resetDue = false
	}
	if len(a.nodes) > a.sk.cap {
		a.sk.grow(min(2*a.sk.cap, a.bg.entries))
	}
	evicted, rejected = a.evict()
	if a.cl.due(a.sk.cap) {
		a.setShare(a.share + a.cl.adjust())
	}
	a.rebalance(tune.transfer)
	return evicted, rejected
}

// evict moves the window's overflow to probation as candidates, then drops
// entries until the shard is within its budgets: each candidate against
// the oldest main entries it would displace.
func (a *adaptiveEvictor) evict() (evicted, rejected int) {
	var cand *node
	for a.window.len > 0 && a.windowMax.over(a.window.len, a.window.bytes) {
		n := a.window.front()
		a.window.unlink(n)
		n.where = adProbation
		a.probation.pushBack(n)
		if cand == nil {
			cand = n
		}
	}
	for a.bg.over(len(a.nodes), a.bytes()) {
		if cand == nil {
			a.drop(a.oldest())
			evicted++
			continue
		}
		next := a.probation.following(cand)
		admit, victims := a.admit(cand)
		if admit {
			for range victims {
				a.drop(a.victim(cand))
			}
			evicted += victims
		} else {
			a.drop(cand)
			evicted++
			rejected++
		}
		cand = next
	}
	return evicted, rejected
}

// admit decides whether candidate c may displace the oldest main entries
// (probation before it, then protected) that must go for the shard to be
// within budget with c in it; victims is how many that is.
func (a *adaptiveEvictor) admit(c *node) (ok bool, victims int) {
	needN, needB := len(a.nodes)-a.bg.entries, a.bytes()-a.bg.bytes
	freq := a.sk.estimate(c.hash)
	sum := 0
	for v := a.victimAfter(c, nil); v != nil && (needN > 0 || needB > 0); v = a.victimAfter(c, v) {
		f := a.sk.estimate(v.hash)
		if tune.sumVictims {
			sum += f
		} else {
			sum = max(sum, f)
		}
		if sum >= freq {
			return a.floodGuard(freq), 0
		}
		victims++
		needN--
		needB -= v.size
	}
	if victims == 0 {
		return false, 0
	}
	return true, victims
}

// floodGuard admits a warm candidate that lost at random, 1 time in 128, so
// that an attacker cannot keep hot keys out by flooding colliding counters.
func (a *adaptiveEvictor) floodGuard(freq int) bool {
	if freq < tune.hashdos {
		return false
	}
	a.rng ^= a.rng << 13
	a.rng ^= a.rng >> 7
	a.rng ^= a.rng << 17
	return a.rng&127 == 0
}

// victimAfter returns the next victim for candidate c after v (the first
// when v is nil): probation entries older than c, then protected ones.
func (a *adaptiveEvictor) victimAfter(c, v *node) *node {
	switch {
	case v == nil:
		if f := a.probation.front(); f != nil && f != c {
			return f
		}
		return a.protected.front()
	case v.where == adProbation:
		if n := a.probation.following(v); n != c && n != nil {
			return n
		}
		return a.protected.front()
	}
	return a.protected.following(v)
}

// victim returns the oldest entry that is not c, as victimAfter(c, nil).
func (a *adaptiveEvictor) victim(c *node) *node { return a.victimAfter(c, nil) }

// oldest returns the entry to drop when there is no candidate: the oldest
// of probation, else of protected, else of the window.
func (a *adaptiveEvictor) oldest() *node {
	for _, l := range [...]*list{&a.probation, &a.protected, &a.window} {
		if n := l.front(); n != nil {
			return n
		}
	}
	return nil
}

func (a *adaptiveEvictor) drop(n *node) {
	a.list(n.where).unlink(n)
	n.where, n.entry = adNone, entry{}
	delete(a.nodes, n.key)
}

// rebalance moves up to limit entries between the lists so that each is
// within its share after the climber changed the shares.
func (a *adaptiveEvictor) rebalance(limit int) {
	for ; limit > 0 && a.window.len > 0 && a.windowMax.over(a.window.len, a.window.bytes); limit-- {
		n := a.window.front()
		a.window.unlink(n)
		n.where = adProbation
		a.probation.pushBack(n)
	}
	for ; limit > 0; limit-- {
		n := a.probation.front()
		if n == nil {
			n = a.protected.front()
		}
		if n == nil || a.windowMax.over(a.window.len+1, a.window.bytes+n.size) {
			break
		}
		a.list(n.where).unlink(n)
		n.where = adWindow
		a.window.pushBack(n)
	}
	for ; limit > 0 && a.protected.len > 0 && a.protectedMax.over(a.protected.len, a.protected.bytes); limit-- {
		n := a.protected.front()
		a.protected.unlink(n)
		n.where = adProbation
		a.probation.pushBack(n)
	}
}

func (a *adaptiveEvictor) list(where uint8) *list {
	switch where {
	case adWindow:
		return &a.window
	case adProbation:
		return &a.probation
	}
	return &a.protected
}

func (a *adaptiveEvictor) remove(key string) {
	if n, ok := a.nodes[key]; ok {
		a.drop(n)
	}
}

func (a *adaptiveEvictor) len() int { return len(a.nodes) }

func (a *adaptiveEvictor) bytes() int64 {
	return a.window.bytes + a.probation.bytes + a.protected.bytes
}

func (a *adaptiveEvictor) purge() {
	clear(a.nodes)
	a.window.init()
	a.probation.init()
	a.protected.init()
}

func (a *adaptiveEvictor) each(fn func(string, entry)) {
	for _, n := range a.nodes {
		fn(n.key, n.entry)
	}
}
