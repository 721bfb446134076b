package latency

import (
	"sync"
	"testing"
	"time"
)

func TestSummary(t *testing.T) {
	var h Histogram
	if s := h.Summary(); s != (Summary{}) {
		t.Fatalf("empty: %+v", s)
	}
	for i := range 100 {
		d := time.Millisecond
		if i == 99 {
			d = time.Second
		}
		h.Observe(d)
	}
	h.Observe(-time.Second) // counts as 0
	s := h.Summary()
	if s.Samples != 101 || s.Max != time.Second {
		t.Fatalf("%+v", s)
	}
	if s.P50 < time.Millisecond || s.P50 >= 2*time.Millisecond {
		t.Errorf("P50 %v not within a factor of two above 1ms", s.P50)
	}
	if s.P99 < time.Millisecond || s.P99 > time.Second {
		t.Errorf("P99 %v", s.P99)
	}
	if want := (99*time.Millisecond + time.Second) / 101; s.Mean != want {
		t.Errorf("Mean %v, want %v", s.Mean, want)
	}
}

func TestConcurrentObserve(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Observe(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if s := h.Summary(); s.Samples != 4000 || s.Max != 3999*time.Microsecond {
		t.Fatalf("%+v", s)
	}
}

func TestBucketsAndMerge(t *testing.T) {
	var a, b Histogram
	for _, d := range []time.Duration{0, 1, 2, 3, 1000} {
		a.Observe(d)
	}
	b.Observe(1023)
	b.Observe(1024)
	var acc Acc
	acc.Add(&a)
	acc.Add(&b)
	s := acc.Summary()
	want := map[int]uint64{0: 1, 1: 1, 2: 2, 10: 2, 11: 1}
	var total uint64
	for i, c := range s.Buckets {
		if c != want[i] {
			t.Errorf("bucket %d (<= %v) = %d, want %d", i, BucketBound(i), c, want[i])
		}
		total += c
	}
	if s.Samples != 7 || total != 7 || s.Sum != 3053 || s.Max != 1024 || s.Mean != 3053/7 {
		t.Fatalf("%+v", s)
	}
	if BucketBound(10) != 1023 || BucketBound(0) != 0 {
		t.Fatalf("bounds %v %v", BucketBound(10), BucketBound(0))
	}
}

func TestLastBucketTakesLonger(t *testing.T) {
	var h Histogram
	h.Observe(1 << 62)
	if s := h.Summary(); s.Buckets[Buckets-1] != 1 || s.Max != 1<<62 || s.P99 != 1<<62 {
		t.Fatalf("%+v", s)
	}
}
