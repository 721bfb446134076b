package memcached

import "github.com/tiercache/tiercache"

var (
	_ tiercache.MetricSource = (*Manager)(nil)
	_ tiercache.MetricSource = (*Store)(nil)
)

// Metrics writes the codec adapter's counters (memcached.corrupt,
// memcached.expired) and each server's state and counters
// (memcached.server.*, labelled server). It costs what Stats costs.
func (m *Manager) Metrics(w tiercache.MetricWriter) {
	st := m.Stats()
	w.Counter("memcached.corrupt", "Entries that failed to decode (removed), returned as misses.", st.Corrupt)
	w.Counter("memcached.expired", "Entries read back with no retention left, returned as misses.", st.Expired)
	serverMetrics(w, st.Servers)
}

// Metrics writes each server's state and counters (memcached.server.*,
// labelled server).
func (s *Store) Metrics(w tiercache.MetricWriter) { serverMetrics(w, s.Stats().Servers) }

func serverMetrics(w tiercache.MetricWriter, servers []ServerStats) {
	for i := range servers {
		s := &servers[i]
		sw := w.With(tiercache.Label{Name: "server", Value: s.Server})
		sw.Gauge("memcached.server.state", "Server state: 0 live (in the ring), 1 ejected.", int64(s.State))
		sw.Gauge("memcached.server.weight", "Configured weight of the server in the ring.", s.Weight)
		sw.Gauge("memcached.server.failures", "Consecutive failures of the server.", s.Failures)
		sw.Counter("memcached.server.gets", "Lookups sent to the server.", s.Gets)
		sw.Counter("memcached.server.hits", "Lookups the server answered with a value.", s.Hits)
		sw.Counter("memcached.server.misses", "Lookups the server answered without a value.", s.Misses)
		sw.Counter("memcached.server.sets", "Writes sent to the server.", s.Sets)
		sw.Counter("memcached.server.deletes", "Deletes sent to the server.", s.Deletes)
		sw.Counter("memcached.server.errors", "Calls to the server that failed (unreachable, timed out, error reply).", s.Errors)
		sw.Counter("memcached.server.ejections", "Times the server was ejected from the ring.", s.Ejections)
		sw.Counter("memcached.server.rejoins", "Times the server came back into the ring.", s.Rejoins)
		sw.Counter("memcached.server.probes", "Probes sent to the server while ejected or suspected of hanging.", s.Probes)
		sw.Counter("memcached.server.probe_errors", "Probes that failed.", s.ProbeErrors)
	}
}
