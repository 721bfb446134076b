package tiercache

import (
	"time"

	"github.com/tiercache/tiercache/internal/latency"
)

// LatencyStats summarises sampled latencies (of a tier's Get lookups, of
// origin requests) in a log2 histogram. P50 and P99 are upper bounds within
// a factor of two (never above Max).
type LatencyStats struct {
	// Samples is the number of latencies recorded, the total of Buckets.
	Samples uint64
	// Sum is their sum and Mean Sum / Samples; Max the longest.
	Sum, Mean, Max time.Duration
	// P50 and P99 are the upper bounds of the buckets holding the median
	// and the 99th percentile.
	P50, P99 time.Duration
	// Buckets[b] counts the samples of at most LatencyBucketBound(b) and
	// more than LatencyBucketBound(b-1): bucket b holds 2^(b-1) to 2^b-1
	// ns, bucket 0 holds 0 ns. The last bucket also holds everything
	// longer (about 9 minutes and up).
	Buckets [LatencyBuckets]uint64
}

// LatencyBuckets is the number of buckets of a LatencyStats.
const LatencyBuckets = latency.Buckets

// LatencyBucketBound returns the longest latency bucket b of
// LatencyStats.Buckets holds: 2^b-1 ns. The last bucket also holds
// everything longer.
func LatencyBucketBound(b int) time.Duration { return latency.BucketBound(b) }

// MetricSource is implemented by the components that count: it describes
// their Stats snapshot as named values (see Stats in the package doc). Every
// component in this module that has a Stats method implements it; so can a
// user's Manager, to appear in the exporters beside them.
type MetricSource interface {
	// Metrics writes the component's current values to w, one call per
	// value, each time under the same names with the same kinds. It is
	// called at scrape time, concurrently with traffic and possibly with
	// other scrapes.
	Metrics(w MetricWriter)
}

// MetricKind says how to read a Metric's value.
type MetricKind uint8

// Metric kinds.
const (
	// MetricCounter: Counter holds a value that only grows.
	MetricCounter MetricKind = iota + 1
	// MetricGauge: Gauge holds a value that goes up and down.
	MetricGauge
	// MetricLatency: Latency holds a latency distribution (in seconds when
	// exported).
	MetricLatency
)

// Units of a Metric, as UCUM codes (the notation OpenTelemetry uses).
const (
	UnitBytes   = "By"
	UnitSeconds = "s"
)

// Label is a dimension of a Metric, such as {"tier", "1"} or {"server",
// "10.0.0.7:11211"}.
type Label struct{ Name, Value string }

// Metric is one value of a component, as a MetricSource describes it.
type Metric struct {
	// Name is the component's namespace and the value's name, dot-separated,
	// words joined with underscores: "tier.hits", "disk.evictions",
	// "memcached.server.probe_errors". It carries no unit: exporters add
	// their own prefix and suffixes (tiercache_tier_hits_total).
	Name string
	// Help says what the value counts, the same text for every value of
	// one Name.
	Help string
	// Unit is UnitBytes, UnitSeconds or "" (a count).
	Unit string
	Kind MetricKind
	// Labels are the dimensions of this value, outermost first (the tier
	// of a Layered, then the component's own, such as the server). The
	// slice is valid only during the call that received it, and must not
	// be modified.
	Labels []Label

	Counter uint64       // for MetricCounter
	Gauge   int64        // for MetricGauge
	Latency LatencyStats // for MetricLatency
}

// MetricWriter is what a MetricSource writes its values to. It adds its
// labels to every value; the zero MetricWriter discards everything.
type MetricWriter struct {
	emit   func(Metric)
	labels []Label
}

// NewMetricWriter returns a MetricWriter that passes every value to emit.
func NewMetricWriter(emit func(Metric)) MetricWriter { return MetricWriter{emit: emit} }

// With returns a MetricWriter that adds labels to every value, after w's
// own; a label named like one of w's replaces it.
func (w MetricWriter) With(labels ...Label) MetricWriter {
	w.labels = mergeLabels(w.labels, labels)
	return w
}

// Label returns the value of w's label name, and whether w has one.
func (w MetricWriter) Label(name string) (string, bool) {
	for _, l := range w.labels {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// Emit writes m, with w's labels put before m's own (a label of m named
// like one of w's replaces it).
func (w MetricWriter) Emit(m Metric) {
	if w.emit == nil {
		return
	}
	switch {
	case len(m.Labels) == 0:
		m.Labels = w.labels
	case len(w.labels) > 0:
		m.Labels = mergeLabels(w.labels, m.Labels)
	}
	w.emit(m)
}

// mergeLabels returns a new slice of base's labels then add's, a label of
// add replacing the one of base with its name.
func mergeLabels(base, add []Label) []Label {
	out := make([]Label, len(base), len(base)+len(add))
	copy(out, base)
next:
	for _, l := range add {
		for i := range out {
			if out[i].Name == l.Name {
				out[i] = l
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// Counter writes a counter value.
func (w MetricWriter) Counter(name, help string, v uint64, labels ...Label) {
	w.Emit(Metric{Name: name, Help: help, Kind: MetricCounter, Labels: labels, Counter: v})
}

// ByteCounter writes a counter of bytes.
func (w MetricWriter) ByteCounter(name, help string, v uint64, labels ...Label) {
	w.Emit(Metric{Name: name, Help: help, Unit: UnitBytes, Kind: MetricCounter, Labels: labels, Counter: v})
}

// Gauge writes a gauge value.
func (w MetricWriter) Gauge(name, help string, v int64, labels ...Label) {
	w.Emit(Metric{Name: name, Help: help, Kind: MetricGauge, Labels: labels, Gauge: v})
}

// ByteGauge writes a gauge of bytes.
func (w MetricWriter) ByteGauge(name, help string, v int64, labels ...Label) {
	w.Emit(Metric{Name: name, Help: help, Unit: UnitBytes, Kind: MetricGauge, Labels: labels, Gauge: v})
}

// Latency writes a latency distribution.
func (w MetricWriter) Latency(name, help string, v LatencyStats, labels ...Label) {
	w.Emit(Metric{Name: name, Help: help, Unit: UnitSeconds, Kind: MetricLatency, Labels: labels, Latency: v})
}

// maxUnwrap bounds the walk down a chain of decorators (a cycle would
// otherwise never end).
const maxUnwrap = 64

// Read writes the values of src and of every Manager it wraps: src's own
// if it is a MetricSource, then, while it has an Unwrap() Manager method,
// those of the Manager Unwrap returns. A component that is neither (a
// Manager without stats) writes nothing.
func (w MetricWriter) Read(src any) {
	for range maxUnwrap {
		if src == nil {
			return
		}
		if s, ok := src.(MetricSource); ok {
			s.Metrics(w)
		}
		u, ok := src.(interface{ Unwrap() Manager })
		if !ok {
			return
		}
		src = u.Unwrap()
	}
}

// ReadMetrics passes every value of src, and of every Manager it wraps, to
// emit (see MetricWriter.Read). src is typically a *Layered (its per-tier
// counters, its bus, and each tier's components under the labels tier and
// name), an *httpcache.Transport, or any Manager. It reads each component's
// Stats once and allocates a few small label slices per value: call it at
// scrape time. emit must not keep Metric.Labels after it returns.
func ReadMetrics(src any, emit func(Metric)) { NewMetricWriter(emit).Read(src) }

// Unwrap returns the Manager m wraps, if m is a decorator with an Unwrap()
// Manager method, or nil.
func Unwrap(m Manager) Manager {
	if u, ok := m.(interface{ Unwrap() Manager }); ok {
		return u.Unwrap()
	}
	return nil
}
