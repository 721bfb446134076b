package workload

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, 1 << 62, math.MaxInt64} {
		i := bucket(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucket(%d) = %d out of range", v, i)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if hi > 0 && float64(hi-lo)/float64(hi) > 1.0/64 {
			t.Errorf("bucket %d = [%d, %d] wider than 1/64", i, lo, hi)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var a, b Histogram
	var all []float64
	for i := range 100_000 {
		v := time.Duration(math.Exp(8 + 2*r.NormFloat64()))
		all = append(all, float64(v))
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	slices.Sort(all)
	if a.Count() != uint64(len(all)) {
		t.Fatalf("Count = %d, want %d", a.Count(), len(all))
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := float64(a.Quantile(q))
		if math.Abs(got-exact)/exact > 0.016 {
			t.Errorf("Quantile(%v) = %v, exact %v", q, got, exact)
		}
	}
	if a.Max() != time.Duration(all[len(all)-1]) || a.Quantile(1) != a.Max() {
		t.Errorf("Max = %v, Quantile(1) = %v, want %v", a.Max(), a.Quantile(1), all[len(all)-1])
	}
}
