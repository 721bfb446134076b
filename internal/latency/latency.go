// Package latency keeps a lock-free log2 histogram of durations and
// summarises it (count, mean, max, p50, p99), in the manner of
// tiercache.LatencyStats: P50 and P99 are the upper bounds of the buckets
// that hold them, within a factor of two of the true value, never above
// Max.
package latency

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// buckets: bucket b counts durations d with bits.Len64(ns(d)) == b (b = 0
// for 0ns); the last bucket also takes everything longer.
const buckets = 40

// Histogram records durations. The zero value is ready to use; it is safe
// for concurrent use, and Observe costs a few uncontended atomic adds and
// never locks or allocates.
type Histogram struct {
	n, sum, max atomic.Uint64
	counts      [buckets]atomic.Uint64
}

// Summary is a snapshot of a Histogram.
type Summary struct {
	Samples   uint64
	Mean, Max time.Duration
	P50, P99  time.Duration
}

// Observe records d (negative durations count as 0).
func (h *Histogram) Observe(d time.Duration) {
	ns := uint64(max(d, 0))
	h.n.Add(1)
	h.sum.Add(ns)
	h.counts[min(bits.Len64(ns), buckets-1)].Add(1)
	for m := h.max.Load(); ns > m && !h.max.CompareAndSwap(m, ns); m = h.max.Load() {
	}
}

// Summary summarises what has been observed. Observations that run
// concurrently may be counted in part.
func (h *Histogram) Summary() Summary {
	var counts [buckets]uint64
	var total uint64
	for b := range counts {
		counts[b] = h.counts[b].Load()
		total += counts[b]
	}
	n, maxNs := h.n.Load(), h.max.Load()
	if n == 0 || total == 0 {
		return Summary{}
	}
	maxD := time.Duration(maxNs)
	return Summary{
		Samples: n,
		Mean:    time.Duration(h.sum.Load() / n),
		Max:     maxD,
		P50:     min(quantile(&counts, total, 50, maxD), maxD),
		P99:     min(quantile(&counts, total, 99, maxD), maxD),
	}
}

// quantile returns the upper bound of the bucket holding the pct-th
// percentile of counts, which hold total observations.
func quantile(counts *[buckets]uint64, total, pct uint64, maxD time.Duration) time.Duration {
	rank := max((total*pct+99)/100, 1)
	var cum uint64
	for b, c := range counts {
		if cum += c; cum >= rank {
			return time.Duration(uint64(1)<<b - 1)
		}
	}
	return maxD
}
