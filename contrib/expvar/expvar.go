// Package expvar publishes the metrics of a tiercache stack through the
// standard library's expvar, as one JSON object under a name of
// /debug/vars.
//
//	if err := expvar.Publish("cache", stack); err != nil { // stack: a *tiercache.Layered
//		log.Fatal(err)
//	}
//	// GET /debug/vars (expvar.Handler, or http.DefaultServeMux) now holds
//	// "cache": {"tier.hits": [{"labels": {"tier": "0", "name": "lru"}, "value": 1234}], ...}
//
// The object has one member per metric name of tiercache.ReadMetrics
// ("tier.hits", "disk.evictions", "memcached.server.errors", ...; a value in
// bytes has "_bytes" added to its name), each a list of samples: the
// sample's labels (left out when it has none) and its value, a number for a
// counter or a gauge and an object for a latency (samples, sum_ns, mean_ns,
// p50_ns, p99_ns, max_ns). The values are read when /debug/vars is
// served, never on the cache's paths.
//
// This package, not the root, imports the standard expvar, whose init
// registers /debug/vars on http.DefaultServeMux: a program that does not
// want it does not import this package.
package expvar

import (
	stdexpvar "expvar"
	"fmt"
	"time"

	"github.com/tiercache/tiercache"
)

// Sample is one value of a metric in the published JSON.
type Sample struct {
	// Labels are the sample's dimensions (tier, name, server, ...).
	Labels map[string]string `json:"labels,omitempty"`
	// Value is a uint64 (counter), an int64 (gauge) or a Latency.
	Value any `json:"value"`
}

// Latency is the JSON form of a tiercache.LatencyStats, in nanoseconds.
type Latency struct {
	Samples uint64 `json:"samples"`
	Sum     int64  `json:"sum_ns"`
	Mean    int64  `json:"mean_ns"`
	P50     int64  `json:"p50_ns"`
	P99     int64  `json:"p99_ns"`
	Max     int64  `json:"max_ns"`
}

// Publish publishes src's metrics under name in /debug/vars: src is what
// tiercache.ReadMetrics reads (a *tiercache.Layered, an
// *httpcache.Transport, any Manager). Call it once per name, at start-up:
// a name already published gives an error wrapping tiercache.ErrInvalid
// (two concurrent calls for one name may instead panic in the standard
// expvar.Publish).
func Publish(name string, src any) error {
	if name == "" {
		return fmt.Errorf("expvar: %w: empty name", tiercache.ErrInvalid)
	}
	if stdexpvar.Get(name) != nil {
		return fmt.Errorf("expvar: %w: %q is already published", tiercache.ErrInvalid, name)
	}
	stdexpvar.Publish(name, Func(src))
	return nil
}

// Func returns an expvar.Func whose value is src's metrics, read at each
// call, for a program that publishes it itself (in an expvar.Map, say).
func Func(src any) stdexpvar.Func {
	return func() any { return Snapshot(src) }
}

// Snapshot reads src's metrics once into the form Publish serves: metric
// name to samples. It allocates the map and the samples; the result is the
// caller's.
func Snapshot(src any) map[string][]Sample {
	out := map[string][]Sample{}
	tiercache.ReadMetrics(src, func(m tiercache.Metric) {
		name := m.Name
		if m.Unit == tiercache.UnitBytes {
			name += "_bytes"
		}
		out[name] = append(out[name], sample(m))
	})
	return out
}

func sample(m tiercache.Metric) Sample {
	var s Sample
	if len(m.Labels) > 0 {
		s.Labels = make(map[string]string, len(m.Labels))
		for _, l := range m.Labels {
			s.Labels[l.Name] = l.Value
		}
	}
	switch m.Kind {
	case tiercache.MetricCounter:
		s.Value = m.Counter
	case tiercache.MetricGauge:
		s.Value = m.Gauge
	case tiercache.MetricLatency:
		l := m.Latency
		s.Value = Latency{Samples: l.Samples, Sum: ns(l.Sum), Mean: ns(l.Mean), P50: ns(l.P50), P99: ns(l.P99), Max: ns(l.Max)}
	}
	return s
}

func ns(d time.Duration) int64 { return d.Nanoseconds() }
