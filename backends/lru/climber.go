package lru

import "math"

// climber tunes the Adaptive window's share by hill climbing on the hit
// ratio, as Caffeine does (Einziger et al., "Adaptive Software Cache
// Management", Middleware 2018): after each sample of requests it moves
// the share by a step, in the same direction while the hit ratio improves
// and in the other when it falls; the step decays each sample so that the
// share settles, and restarts at full size when the hit ratio jumps (the
// workload changed).
type climber struct {
	hits, misses uint64  // requests of the current sample
	prev         float64 // hit ratio of the previous sample
	step         float64 // next move, a signed share of the budgets
}

func (c *climber) init(step float64) { *c = climber{step: -step} }

// due reports whether the sample for a shard of capacity entries is full.
func (c *climber) due(capacity int) bool {
	return float64(c.hits+c.misses) >= tune.sample*float64(capacity)
}

// adjust ends the sample and returns the change of the window's share.
func (c *climber) adjust() float64 {
	rate := float64(c.hits) / float64(c.hits+c.misses)
	change := rate - c.prev
	amount := c.step
	if change < 0 {
		amount = -c.step
	}
	if math.Abs(change) >= tune.restart {
		c.step = math.Copysign(tune.step, amount)
	} else {
		c.step = tune.decay * amount
	}
	c.prev, c.hits, c.misses = rate, 0, 0
	return amount
}
