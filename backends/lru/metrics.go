package lru

import "github.com/tiercache/tiercache"

var _ tiercache.MetricSource = (*Manager)(nil)

// Metrics writes the counters and gauges of Stats as lru.* values. It reads
// Stats once (each shard lock in turn); nothing is counted for it on a Get.
func (m *Manager) Metrics(w tiercache.MetricWriter) {
	s := m.Stats()
	w.Counter("lru.hits", "Gets that returned an entry.", s.Hits)
	w.Counter("lru.misses", "Gets that returned nothing, including expired entries.", s.Misses)
	w.Counter("lru.evictions", "Entries removed to keep within MaxEntries or MaxBytes.", s.Evictions)
	w.Counter("lru.expired", "Entries Get found past their deadline and removed.", s.Expired)
	w.Counter("lru.rejections", "Of the evictions, new entries Adaptive did not admit to its main cache.", s.Rejections)
	w.Gauge("lru.entries", "Entries held, expired ones not yet removed included.", s.Entries)
	w.ByteGauge("lru.size", "Bytes counted for the entries held (Response.Size plus overhead).", s.Bytes)
}
