// Package latency keeps a lock-free log2 histogram of durations and
// summarises it (count, sum, mean, max, p50, p99 and the bucket counts), in
// the manner of tiercache.LatencyStats: P50 and P99 are the upper bounds of
// the buckets that hold them, within a factor of two of the true value,
// never above Max.
//
// Summary has exactly the fields of tiercache.LatencyStats (this package
// cannot import the root, which imports it), so a Summary converts to one
// with a plain conversion: tiercache.LatencyStats(s).
package latency

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets is the number of buckets: bucket b counts durations d with
// bits.Len64(ns(d)) == b, that is 2^(b-1) <= ns <= 2^b-1 (b = 0 for 0 ns);
// the last bucket also takes everything longer.
const Buckets = 40

// Histogram records durations. The zero value is ready to use; it is safe
// for concurrent use, and Observe costs two atomic adds and an atomic load
// (a compare-and-swap when d is a new maximum), and never locks or
// allocates.
type Histogram struct {
	sum, max atomic.Uint64
	counts   [Buckets]atomic.Uint64
}

// Summary is a snapshot of one or more Histograms. Its fields are those of
// tiercache.LatencyStats, which documents them.
type Summary struct {
	Samples   uint64
	Sum       time.Duration
	Mean, Max time.Duration
	P50, P99  time.Duration
	Buckets   [Buckets]uint64
}

// Observe records d (negative durations count as 0).
func (h *Histogram) Observe(d time.Duration) {
	ns := uint64(max(d, 0))
	h.sum.Add(ns)
	h.counts[min(bits.Len64(ns), Buckets-1)].Add(1)
	for m := h.max.Load(); ns > m && !h.max.CompareAndSwap(m, ns); m = h.max.Load() {
	}
}

// Summary summarises what has been observed. Observations that run
// concurrently may be counted in part.
func (h *Histogram) Summary() Summary {
	var a Acc
	a.Add(h)
	return a.Summary()
}

// Acc merges Histograms (the shards of one counter) into one Summary. The
// zero value is empty.
type Acc struct {
	sum, max uint64
	counts   [Buckets]uint64
}

// Add adds what h has observed.
func (a *Acc) Add(h *Histogram) {
	a.sum += h.sum.Load()
	a.max = max(a.max, h.max.Load())
	for b := range a.counts {
		a.counts[b] += h.counts[b].Load()
	}
}

// Summary summarises the Histograms added. Samples is the total of the
// bucket counts, so that the buckets add up to it exactly in every snapshot.
func (a *Acc) Summary() Summary {
	var total uint64
	for _, c := range a.counts {
		total += c
	}
	if total == 0 {
		return Summary{}
	}
	maxD := time.Duration(a.max)
	return Summary{
		Samples: total,
		Sum:     time.Duration(a.sum),
		Mean:    time.Duration(a.sum / total),
		Max:     maxD,
		P50:     min(a.quantile(total, 50), maxD),
		P99:     min(a.quantile(total, 99), maxD),
		Buckets: a.counts,
	}
}

// quantile returns the upper bound of the bucket holding the pct-th
// percentile of the total observations (the maximum for the last bucket,
// which has none).
func (a *Acc) quantile(total, pct uint64) time.Duration {
	rank := max((total*pct+99)/100, 1)
	var cum uint64
	for b, c := range a.counts {
		if cum += c; cum >= rank && b < Buckets-1 {
			return BucketBound(b)
		}
	}
	return time.Duration(a.max)
}

// BucketBound returns the largest duration bucket b holds, 2^b-1 ns; the
// last bucket also holds everything longer.
func BucketBound(b int) time.Duration { return time.Duration(uint64(1)<<b - 1) }
