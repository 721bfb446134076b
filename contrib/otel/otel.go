// Package otel exports tiercache metrics to OpenTelemetry: Register creates
// observable instruments on a user's MeterProvider and one callback that
// reads a stack (a *tiercache.Layered and every component of its tiers), an
// *httpcache.Transport, or any Manager through tiercache.ReadMetrics when
// the SDK collects.
//
//	reg, err := tcotel.Register(otel.GetMeterProvider(), stack)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer reg.Unregister()
//
// A metric named "tier.hits" by ReadMetrics is the instrument
// "tiercache.tier.hits": an Int64ObservableCounter for a counter, an
// Int64ObservableGauge for a gauge, with the unit "By" for bytes. Its
// labels become attributes (tier and name on everything read through a
// Layered, server on memcached's per-server values, outcome, source and
// reason on the Transport's). OpenTelemetry has no asynchronous histogram,
// so a latency such as "tier.request_duration" becomes five instruments in
// seconds: ".count" and ".sum" (counters) and ".p50", ".p99" and ".max"
// (gauges).
//
// Nothing is counted for OpenTelemetry on the cache's paths: a collection
// reads each component's Stats once.
package otel

import (
	"context"
	"errors"
	"fmt"
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tiercache/tiercache"
)

// ScopeName is the instrumentation scope of the Meter Register uses.
const ScopeName = "github.com/tiercache/tiercache/contrib/otel"

// DefaultPrefix is the prefix of every instrument name.
const DefaultPrefix = "tiercache."

// Option configures Register.
type Option func(*config)

type config struct{ prefix string }

// WithPrefix replaces the prefix of the instrument names (DefaultPrefix).
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// instrument is what one tiercache metric name is observed through.
type instrument struct {
	counter metric.Int64ObservableCounter
	gauge   metric.Int64ObservableGauge
	// For a latency:
	count         metric.Int64ObservableCounter
	sum           metric.Float64ObservableCounter
	p50, p99, max metric.Float64ObservableGauge
}

// Register creates the instruments of src's metrics on a Meter of mp and
// registers a callback that observes them at each collection; Unregister
// the returned Registration to stop. src is what tiercache.ReadMetrics
// reads: a *tiercache.Layered, an *httpcache.Transport, or any Manager.
//
// The instruments are those of the metric names src has at Register: read
// once here, they do not change with its state (a memcached server added
// later is new attribute values of the same names), but a name that appears
// only later is not observed.
func Register(mp metric.MeterProvider, src any, opts ...Option) (metric.Registration, error) {
	if mp == nil {
		return nil, fmt.Errorf("otel: %w: nil MeterProvider", tiercache.ErrInvalid)
	}
	cfg := config{prefix: DefaultPrefix}
	for _, o := range opts {
		o(&cfg)
	}
	meter := mp.Meter(ScopeName)
	insts := map[string]*instrument{}
	var all []metric.Observable
	var errs []error
	tiercache.ReadMetrics(src, func(m tiercache.Metric) {
		if _, ok := insts[m.Name]; ok {
			return
		}
		inst, obs, err := newInstrument(meter, cfg.prefix, m)
		if err != nil {
			errs = append(errs, err)
			return
		}
		insts[m.Name] = inst
		all = append(all, obs...)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		tiercache.ReadMetrics(src, func(m tiercache.Metric) {
			if inst := insts[m.Name]; inst != nil {
				inst.observe(o, m)
			}
		})
		return nil
	}, all...)
}

// newInstrument creates the instruments of m's name.
func newInstrument(meter metric.Meter, prefix string, m tiercache.Metric) (*instrument, []metric.Observable, error) {
	name := prefix + m.Name
	desc, unit := metric.WithDescription(m.Help), metric.WithUnit(m.Unit)
	var in instrument
	var err error
	switch m.Kind {
	case tiercache.MetricCounter:
		in.counter, err = meter.Int64ObservableCounter(name, desc, unit)
		return &in, []metric.Observable{in.counter}, err
	case tiercache.MetricGauge:
		in.gauge, err = meter.Int64ObservableGauge(name, desc, unit)
		return &in, []metric.Observable{in.gauge}, err
	}
	secs := metric.WithUnit(tiercache.UnitSeconds)
	var errs [5]error
	in.count, errs[0] = meter.Int64ObservableCounter(name+".count", metric.WithDescription(m.Help+" Number of samples."))
	in.sum, errs[1] = meter.Float64ObservableCounter(name+".sum", metric.WithDescription(m.Help+" Sum of the samples."), secs)
	in.p50, errs[2] = meter.Float64ObservableGauge(name+".p50", metric.WithDescription(m.Help+" Median (upper bound, within a factor of two)."), secs)
	in.p99, errs[3] = meter.Float64ObservableGauge(name+".p99", metric.WithDescription(m.Help+" 99th percentile (upper bound, within a factor of two)."), secs)
	in.max, errs[4] = meter.Float64ObservableGauge(name+".max", metric.WithDescription(m.Help+" Longest sample."), secs)
	return &in, []metric.Observable{in.count, in.sum, in.p50, in.p99, in.max}, errors.Join(errs[:]...)
}

// observe records m's value.
func (in *instrument) observe(o metric.Observer, m tiercache.Metric) {
	attrs := metric.WithAttributeSet(attributes(m.Labels))
	switch m.Kind {
	case tiercache.MetricCounter:
		o.ObserveInt64(in.counter, clamp(m.Counter), attrs)
	case tiercache.MetricGauge:
		o.ObserveInt64(in.gauge, m.Gauge, attrs)
	case tiercache.MetricLatency:
		l := &m.Latency
		o.ObserveInt64(in.count, clamp(l.Samples), attrs)
		o.ObserveFloat64(in.sum, l.Sum.Seconds(), attrs)
		o.ObserveFloat64(in.p50, l.P50.Seconds(), attrs)
		o.ObserveFloat64(in.p99, l.P99.Seconds(), attrs)
		o.ObserveFloat64(in.max, l.Max.Seconds(), attrs)
	}
}

func attributes(labels []tiercache.Label) attribute.Set {
	kvs := make([]attribute.KeyValue, len(labels))
	for i, l := range labels {
		kvs[i] = attribute.String(l.Name, l.Value)
	}
	return attribute.NewSet(kvs...)
}

// clamp converts a counter to the int64 OpenTelemetry takes (a counter
// past 2^63 stays at the maximum).
func clamp(v uint64) int64 { return int64(min(v, math.MaxInt64)) }
