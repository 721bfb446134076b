package tier

import "github.com/tiercache/tiercache"

// Every decorator has an Unwrap method returning the Manager it wraps, so
// that tiercache.ReadMetrics (and the exporters built on it) reach the
// components below it. Calls made on the unwrapped Manager bypass the
// decorator.

var (
	_ tiercache.MetricSource = (*TimeoutManager)(nil)
	_ tiercache.MetricSource = (*WriteBackManager)(nil)
	_ tiercache.MetricSource = (*BreakerManager)(nil)
)

// Unwrap returns the Manager the timeouts guard.
func (t *TimeoutManager) Unwrap() tiercache.Manager { return t.m }

// Unwrap returns the Manager the queued writes go to.
func (w *WriteBackManager) Unwrap() tiercache.Manager { return w.m }

// Unwrap returns the Manager below the admission filter.
func (a admission) Unwrap() tiercache.Manager { return a.m }

// Unwrap returns the Manager that holds the prefixed keys.
func (x prefix) Unwrap() tiercache.Manager { return x.m }

// Unwrap returns the Manager made read-only.
func (r readOnly) Unwrap() tiercache.Manager { return r.m }

// Metrics writes Stats as timeout.* values.
func (t *TimeoutManager) Metrics(w tiercache.MetricWriter) {
	s := t.Stats()
	w.Counter("timeout.timeouts", "Calls that did not answer within the deadline (or whose caller gave up).", s.Timeouts)
	w.Counter("timeout.panics", "Panics recovered in calls given up on.", s.Panics)
	w.Gauge("timeout.abandoned", "Calls given up on and still running in the wrapped tier.", s.Abandoned)
}

// Metrics writes Stats as writeback.* values.
func (w *WriteBackManager) Metrics(mw tiercache.MetricWriter) {
	s := w.Stats()
	mw.Counter("writeback.queued", "Puts and Deletes accepted into the write-back queue.", s.Queued)
	mw.Counter("writeback.coalesced", "Queued writes that replaced a pending write of the same key.", s.Coalesced)
	mw.Counter("writeback.written", "Background writes that succeeded.", s.Written)
	mw.Counter("writeback.errors", "Background writes that failed.", s.Errors)
	mw.Counter("writeback.panics", "Panics recovered on the write-back workers.", s.Panics)
	mw.Gauge("writeback.pending", "Keys waiting to be written or being written.", s.Pending)
}
