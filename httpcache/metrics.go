package httpcache

import "github.com/tiercache/tiercache"

var (
	_ tiercache.MetricSource = (*Transport)(nil)
	_ tiercache.MetricSource = (*Middleware)(nil)
)

// Metrics writes the Middleware's Stats as http.* values, exactly as
// (*Transport).Metrics does for a Transport.
func (m *Middleware) Metrics(w tiercache.MetricWriter) { m.t.Metrics(w) }

// Metrics writes the Transport's Stats as http.* values: requests by
// outcome, body bytes by source, stores, refusals by reason, background
// revalidations and origin latency. It reads Stats once; the Manager the
// Transport caches into is not read (give it to the exporter too).
func (t *Transport) Metrics(w tiercache.MetricWriter) {
	s := t.Stats()
	const reqHelp = "Requests by outcome (hit, stale_hit, revalidated, miss, uncacheable, bypass, collapsed, stale_on_error, origin_error)."
	for _, o := range [...]struct {
		name string
		v    uint64
	}{
		{"hit", s.Hits}, {"stale_hit", s.StaleHits}, {"revalidated", s.Revalidations},
		{"miss", s.Misses}, {"uncacheable", s.Uncacheable}, {"bypass", s.Bypasses},
		{"collapsed", s.Collapsed}, {"stale_on_error", s.StaleOnError}, {"origin_error", s.OriginErrors},
	} {
		w.Counter("http.requests", reqHelp, o.v, tiercache.Label{Name: "outcome", Value: o.name})
	}
	const bodyHelp = "Body bytes served, by source (cache or origin)."
	w.ByteCounter("http.response_body", bodyHelp, s.BytesFromCache, tiercache.Label{Name: "source", Value: "cache"})
	w.ByteCounter("http.response_body", bodyHelp, s.BytesFromOrigin, tiercache.Label{Name: "source", Value: "origin"})
	w.Counter("http.stores", "Responses written to the cache.", s.Stores)
	r := s.Refusals
	const refHelp = "Responses to GET requests not stored, by reason."
	for _, o := range [...]struct {
		name string
		v    uint64
	}{
		{"no_store", r.NoStore}, {"private", r.Private}, {"authorization", r.Authorization},
		{"set_cookie", r.SetCookie}, {"vary_star", r.VaryStar}, {"uncacheable", r.Uncacheable},
		{"too_large", r.TooLarge}, {"incomplete", r.Incomplete}, {"not_retained", r.NotRetained},
		{"error", r.Errors}, {"purged", r.Purged}, {"tags", r.Tags},
	} {
		w.Counter("http.store_refusals", refHelp, o.v, tiercache.Label{Name: "reason", Value: o.name})
	}
	w.Counter("http.refreshes", "Background revalidations started (stale-while-revalidate).", s.Refreshes)
	w.Counter("http.refreshes_skipped", "Stale-while-revalidate hits that started no revalidation (limit reached).", s.RefreshesSkipped)
	w.Counter("http.refresh_errors", "Background revalidations that failed.", s.RefreshErrors)
	w.Gauge("http.refreshes_running", "Background revalidations running.", s.RefreshesRunning)
	w.Counter("http.panics", "Panics recovered in background revalidations.", s.Panics)
	w.Counter("http.rate_limited", "Origin requests the rate limiter refused (WithRateLimiter).", s.RateLimited)
	w.Counter("http.purges", "Successful PurgeTag calls and PurgeURL generation moves (WithPurge).", s.Purges)
	w.Counter("http.purged", "Stored responses found purged by a lookup, served as misses.", s.Purged)
	w.Counter("http.purge_reads", "Reads of a purge generation from the purge store.", s.PurgeReads)
	w.Counter("http.purge_errors", "Failed purge-store reads, writes and bus operations.", s.PurgeErrors)
	w.Latency("http.origin_request_duration", "Time from sending a request to the origin until its response header arrived (or it failed).", s.OriginLatency)
}
