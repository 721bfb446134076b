package workload

import (
	"math"
)

// CheModel is the input of the Che approximation of an LRU cache's hit ratio
// under the independent reference model (IRM).
type CheModel struct {
	// Probs[i] is the probability that an operation concerns key i.
	Probs []float64
	// Sizes[i] is the bytes key i occupies in the cache (nil: byte bound unused).
	Sizes []float64
	// MaxEntries bounds the number of entries (0: unbounded).
	MaxEntries float64
	// MaxBytes bounds the sum of Sizes (0: unbounded).
	MaxBytes float64
	// RefShare is the fraction of operations that reference (insert or
	// refresh) a key: Gets (a miss is followed by a Put) and Puts. The rest
	// are Deletes, which remove the key. 1 means a pure Get trace.
	RefShare float64
}

// Che returns the hit ratio of Get operations predicted by the Che
// approximation and the characteristic time T (in operations).
//
// The cache holds a key iff it was referenced within the last T operations
// and not deleted since its last reference. Looking back from an operation,
// the most recent event on key i is a reference with probability RefShare,
// so key i is cached with probability RefShare*(1-exp(-p_i T)), and T is
// the largest value for which the expected entries and bytes stay within
// their bounds. The hit ratio of a Get is sum_i p_i * occupancy_i. With
// RefShare = 1 this is the classic Che formula.
func Che(m CheModel) (hit, T float64) {
	ref := m.RefShare
	if ref <= 0 || ref > 1 {
		ref = 1
	}
	T = math.Inf(1)
	if m.MaxEntries > 0 {
		T = min(T, solveT(m.Probs, nil, m.MaxEntries/ref))
	}
	if m.MaxBytes > 0 && m.Sizes != nil {
		T = min(T, solveT(m.Probs, m.Sizes, m.MaxBytes/ref))
	}
	for _, p := range m.Probs {
		hit += p * ref * occupancy(p, T)
	}
	return hit, T
}

func occupancy(p, T float64) float64 {
	if math.IsInf(T, 1) {
		return 1
	}
	return -math.Expm1(-p * T)
}

// solveT finds T with sum_i w_i (1 - exp(-p_i T)) = limit (w_i = 1 when
// weights is nil) by bisection; +Inf when everything fits.
func solveT(probs, weights []float64, limit float64) float64 {
	fill := func(T float64) float64 {
		s := 0.0
		for i, p := range probs {
			w := 1.0
			if weights != nil {
				w = weights[i]
			}
			s += w * occupancy(p, T)
		}
		return s
	}
	if fill(math.Inf(1)) <= limit {
		return math.Inf(1)
	}
	lo, hi := 0.0, 1.0
	for fill(hi) < limit {
		lo, hi = hi, hi*2
	}
	for range 60 {
		mid := (lo + hi) / 2
		if fill(mid) < limit {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-9*hi {
			break
		}
	}
	return (lo + hi) / 2
}
