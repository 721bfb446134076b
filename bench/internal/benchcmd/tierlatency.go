package benchcmd

import (
	"time"

	"github.com/tiercache/tiercache"
)

// TierLatency is the latency of a tier's Get lookups during the measured
// run, from the Layered's sampled histograms (LayeredStats.Tiers[i].Latency:
// one lookup in 1024 is timed in the front tier, one in 64 below). A
// lookup in a compressed tier includes the decompression.
type TierLatency struct {
	Samples uint64  `json:"samples"`
	MeanUs  float64 `json:"mean_us"`
	// P50Us and P99Us are the upper bounds of the log2 buckets holding the
	// median and the 99th percentile: within a factor of two above them.
	P50Us float64 `json:"p50_us"`
	P99Us float64 `json:"p99_us"`
	// Buckets[b] counts the samples of 2^(b-1) to 2^b-1 ns (b = 0: 0 ns);
	// empty buckets past the last sample are left out.
	Buckets []uint64 `json:"buckets"`
}

// tierLatency returns the latency of the lookups sampled between two
// snapshots of a tier, nil when none was.
func tierLatency(before, after tiercache.LatencyStats) *TierLatency {
	var counts [tiercache.LatencyBuckets]uint64
	var total uint64
	last := -1
	for b := range counts {
		counts[b] = after.Buckets[b] - min(before.Buckets[b], after.Buckets[b])
		total += counts[b]
		if counts[b] > 0 {
			last = b
		}
	}
	if total == 0 {
		return nil
	}
	sum := max(after.Sum-before.Sum, 0)
	return &TierLatency{
		Samples: total,
		MeanUs:  us(sum / time.Duration(total)),
		P50Us:   us(bucketQuantile(counts[:], total, 50)),
		P99Us:   us(bucketQuantile(counts[:], total, 99)),
		Buckets: append([]uint64(nil), counts[:last+1]...),
	}
}

// bucketQuantile returns the upper bound of the bucket holding the pct-th
// percentile of total samples, as tiercache.LatencyStats computes P50 and
// P99 (the last bucket, which has no bound, gives its lower bound).
func bucketQuantile(counts []uint64, total, pct uint64) time.Duration {
	rank := max((total*pct+99)/100, 1)
	var cum uint64
	for b, c := range counts {
		if cum += c; cum >= rank {
			if b == tiercache.LatencyBuckets-1 {
				return tiercache.LatencyBucketBound(b-1) + 1
			}
			return tiercache.LatencyBucketBound(b)
		}
	}
	return 0
}
