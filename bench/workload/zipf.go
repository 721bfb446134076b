package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Zipf samples ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s, for any
// s >= 0 (math/rand's Zipf needs s > 1). It inverts a precomputed cumulative
// table with a binary search: O(n) memory, O(log n) per sample.
//
// A Zipf is immutable after NewZipf and safe for concurrent use; the random
// source passed to Sample is the caller's.
type Zipf struct {
	s   float64
	cdf []float64 // cdf[k] = P(rank <= k); cdf[n-1] == 1
}

// NewZipf returns a sampler over n ranks with exponent s.
func NewZipf(n int, s float64) (*Zipf, error) {
	if n <= 0 {
		return nil, fmt.Errorf("zipf: need at least one rank, got %d", n)
	}
	if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("zipf: exponent must be a finite number >= 0, got %v", s)
	}
	cdf := make([]float64, n)
	sum := 0.0
	for k := range cdf {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	cdf[n-1] = 1
	return &Zipf{s: s, cdf: cdf}, nil
}

// N returns the number of ranks.
func (z *Zipf) N() int { return len(z.cdf) }

// S returns the exponent.
func (z *Zipf) S() float64 { return z.s }

// Prob returns the probability of rank k.
func (z *Zipf) Prob(k int) float64 {
	if k == 0 {
		return z.cdf[0]
	}
	return z.cdf[k] - z.cdf[k-1]
}

// Probs returns the probability of every rank, in rank order (a new slice).
func (z *Zipf) Probs() []float64 {
	p := make([]float64, len(z.cdf))
	for k := range p {
		p[k] = z.Prob(k)
	}
	return p
}

// Sample draws one rank using r.
func (z *Zipf) Sample(r *rand.Rand) int {
	u := r.Float64()
	k := sort.SearchFloat64s(z.cdf, u)
	// SearchFloat64s finds the first cdf[k] >= u; u < 1 so k < n, but guard
	// against rounding in the last entries.
	return min(k, len(z.cdf)-1)
}
