package disk

import "github.com/tiercache/tiercache"

var (
	_ tiercache.MetricSource = (*Manager)(nil)
	_ tiercache.MetricSource = (*Store)(nil)
)

// Metrics writes the Manager's Stats as disk.* values (Corrupt includes the
// entries the codec could not decode).
func (m *Manager) Metrics(w tiercache.MetricWriter) { statsMetrics(w, m.Stats()) }

// Metrics writes the Store's Stats as disk.* values.
func (s *Store) Metrics(w tiercache.MetricWriter) { statsMetrics(w, s.Stats()) }

func statsMetrics(w tiercache.MetricWriter, s Stats) {
	w.Gauge("disk.entries", "Entries in the index.", s.Entries)
	w.ByteGauge("disk.size", "Bytes of the entry files, plus Puts in flight.", s.Bytes)
	w.ByteGauge("disk.max_size", "The configured bound on the bytes held (MaxBytes).", s.MaxBytes)
	w.Counter("disk.hits", "Gets that returned a value.", s.Hits)
	w.Counter("disk.misses", "Gets that returned nothing (absent, expired, corrupt).", s.Misses)
	w.Counter("disk.evictions", "Entries removed to stay within MaxBytes.", s.Evictions)
	w.Counter("disk.expired", "Expired entries removed.", s.Expired)
	w.Counter("disk.corrupt", "Malformed or undecodable entries removed.", s.Corrupt)
	w.Counter("disk.panics", "Panics recovered in the periodic sweep.", s.Panics)
}
