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
