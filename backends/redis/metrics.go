package redis

import "github.com/tiercache/tiercache"

var (
	_ tiercache.MetricSource = (*Manager)(nil)
	_ tiercache.MetricSource = (*Store)(nil)
	_ tiercache.MetricSource = (*Bus)(nil)
)

// Metrics writes the Manager's Stats as redis.* values.
func (m *Manager) Metrics(w tiercache.MetricWriter) {
	st := m.Stats()
	w.Counter("redis.corrupt", "Entries that failed to decode (removed), returned as misses.", st.Corrupt)
	w.Counter("redis.expired", "Entries read back with no retention left, returned as misses.", st.Expired)
	callMetrics(w, st)
}

// Metrics writes the Store's Stats as redis.* values (those of the server
// calls; the codec counters belong to the Manager).
func (s *Store) Metrics(w tiercache.MetricWriter) { callMetrics(w, s.Stats()) }

func callMetrics(w tiercache.MetricWriter, st Stats) {
	w.Counter("redis.errors", "Calls that failed because of the server (unreachable, timed out, error reply).", st.Errors)
	w.Counter("redis.timeouts", "Failed calls that got no answer within Config.Timeout.", st.Timeouts)
	w.Counter("redis.losses", "Changes from calls reaching the server to a call that could not.", st.Losses)
	w.Counter("redis.recoveries", "Changes back to calls reaching the server.", st.Recoveries)
	w.Counter("redis.panics", "Panics recovered in detached calls.", st.Panics)
}

// Metrics writes the Bus's Stats as redis.bus.* values.
func (b *Bus) Metrics(w tiercache.MetricWriter) {
	st := b.Stats()
	w.Counter("redis.bus.publishes", "Messages published on the bus.", st.Publishes)
	w.Counter("redis.bus.publish_errors", "Publishes that failed.", st.PublishErrors)
	w.Counter("redis.bus.received", "Messages delivered to subscribers.", st.Received)
	w.Counter("redis.bus.corrupt", "Messages that failed to decode, skipped.", st.Corrupt)
	w.Counter("redis.bus.losses", "Lost subscriptions (or failed first attempts).", st.Losses)
	w.Counter("redis.bus.recoveries", "Subscriptions re-established.", st.Recoveries)
	w.Counter("redis.bus.panics", "Panics recovered from subscribers.", st.Panics)
	w.Gauge("redis.bus.subscriptions", "Open subscriptions.", st.Subscriptions)
	w.Gauge("redis.bus.up", "Open subscriptions currently subscribed.", st.Up)
}
