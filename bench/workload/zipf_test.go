package workload

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipfTopRanks compares the empirical frequencies of the most popular
// ranks with theory. The seed is fixed, so the test is deterministic; the
// tolerance (6 standard deviations of a binomial count) would hold for
// almost any seed anyway.
func TestZipfTopRanks(t *testing.T) {
	for _, s := range []float64{0.5, 0.99, 1.2} {
		z, err := NewZipf(100_000, s)
		if err != nil {
			t.Fatal(err)
		}
		const n = 1_000_000
		r := rand.New(rand.NewPCG(42, 7))
		counts := make([]int, z.N())
		for range n {
			counts[z.Sample(r)]++
		}
		for k := range 20 {
			p := z.Prob(k)
			want := p * n
			sd := math.Sqrt(n * p * (1 - p))
			if got := float64(counts[k]); math.Abs(got-want) > 6*sd {
				t.Errorf("s=%v rank %d: %v samples, want %.0f ± %.0f", s, k, got, want, 6*sd)
			}
		}
		// Theory: P(rank k) = (k+1)^-s / H(N, s).
		h := 0.0
		for k := range z.N() {
			h += math.Pow(float64(k+1), -s)
		}
		if got, want := z.Prob(0), 1/h; math.Abs(got-want) > 1e-12 {
			t.Errorf("s=%v Prob(0) = %v, want %v", s, got, want)
		}
		if got, want := z.Prob(9)/z.Prob(0), math.Pow(10, -s); math.Abs(got-want) > 1e-9 {
			t.Errorf("s=%v Prob(9)/Prob(0) = %v, want %v", s, got, want)
		}
	}
}

func TestZipfUniformAndBounds(t *testing.T) {
	z, err := NewZipf(4, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 4 {
		if p := z.Prob(k); math.Abs(p-0.25) > 1e-12 {
			t.Errorf("s=0 Prob(%d) = %v, want 0.25", k, p)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		if k := z.Sample(r); k < 0 || k >= 4 {
			t.Fatalf("Sample = %d, out of [0, 4)", k)
		}
	}
	sum := 0.0
	for _, p := range z.Probs() {
		sum += p
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("probabilities sum to %v", sum)
	}
	for _, bad := range []struct {
		n int
		s float64
	}{{0, 1}, {-1, 1}, {10, -0.5}, {10, math.NaN()}, {10, math.Inf(1)}} {
		if _, err := NewZipf(bad.n, bad.s); err == nil {
			t.Errorf("NewZipf(%d, %v): no error", bad.n, bad.s)
		}
	}
}
