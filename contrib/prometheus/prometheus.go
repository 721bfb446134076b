// Package prometheus exports tiercache metrics to Prometheus: a Collector
// reads a stack (a *tiercache.Layered and every component of its tiers), an
// *httpcache.Transport, or any Manager at scrape time, through
// tiercache.ReadMetrics.
//
//	reg := prometheus.NewRegistry() // client_golang
//	reg.MustRegister(tcprom.NewCollector(stack), tcprom.NewCollector(transport))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// A metric named "tier.hits" by ReadMetrics is exported as
// tiercache_tier_hits_total: the namespace, the name with dots turned into
// underscores, the unit (_bytes, _seconds) and _total for a counter. Labels
// are ReadMetrics' own: tier (the index in the Layered) and name (from
// tiercache.WithTierNames) on everything read through a Layered, server on
// memcached's per-server values, outcome, source and reason on the
// Transport's. A latency becomes a histogram whose buckets are the log2
// buckets of tiercache.LatencyStats, from 15 ns (2^4-1) to 275 s (2^38-1 ns).
//
// Nothing is counted for Prometheus on the cache's paths: a scrape reads
// each component's Stats once (atomic loads and short locks) and allocates
// the samples it sends.
package prometheus

import (
	"strings"
	"sync"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/tiercache/tiercache"
)

// DefaultNamespace is the prefix of every metric name.
const DefaultNamespace = "tiercache"

// Histogram buckets: LatencyStats bucket b holds latencies up to 2^b-1 ns;
// the histogram has a bucket for each b in [minBucket, maxBucket], and the
// +Inf bucket for the rest.
const (
	minBucket = 4  // 15 ns: nothing shorter is measurable with a clock read
	maxBucket = 38 // 2^38-1 ns, about 275 s
)

// Collector is a prometheus.Collector of one tiercache source. It is an
// unchecked collector (Describe sends nothing): the metrics it sends depend
// on the components in the source and on their state (memcached servers
// come and go). Register each source once per registry; two stacks in one
// registry need labels to tell them apart, for example through
// prometheus.WrapRegistererWith(prometheus.Labels{"stack": "pages"}, reg).
// A Collector is safe for concurrent scrapes.
type Collector struct {
	src       any
	namespace string

	mu    sync.Mutex
	descs map[string]*prom.Desc // by full name and label names
}

var _ prom.Collector = (*Collector)(nil)

// Option configures NewCollector.
type Option func(*Collector)

// WithNamespace replaces the prefix of the metric names (DefaultNamespace).
func WithNamespace(ns string) Option {
	return func(c *Collector) { c.namespace = ns }
}

// NewCollector returns a Collector of src, which is what
// tiercache.ReadMetrics reads: a *tiercache.Layered, an
// *httpcache.Transport, or any Manager (decorators are read through their
// Unwrap methods). It reads nothing until the first scrape.
func NewCollector(src any, opts ...Option) *Collector {
	c := &Collector{src: src, namespace: DefaultNamespace, descs: map[string]*prom.Desc{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Describe sends nothing: the Collector is unchecked (see Collector).
func (c *Collector) Describe(chan<- *prom.Desc) {}

// Collect reads the source's metrics and sends them to ch.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	tiercache.ReadMetrics(c.src, func(m tiercache.Metric) { ch <- c.convert(m) })
}

// convert turns one tiercache value into a constant Prometheus metric, or
// an invalid metric carrying the error (a label value that is not UTF-8).
func (c *Collector) convert(m tiercache.Metric) prom.Metric {
	names := make([]string, len(m.Labels))
	values := make([]string, len(m.Labels))
	for i, l := range m.Labels {
		names[i], values[i] = l.Name, l.Value
	}
	desc := c.desc(m, names)
	var pm prom.Metric
	var err error
	switch m.Kind {
	case tiercache.MetricCounter:
		pm, err = prom.NewConstMetric(desc, prom.CounterValue, float64(m.Counter), values...)
	case tiercache.MetricGauge:
		pm, err = prom.NewConstMetric(desc, prom.GaugeValue, float64(m.Gauge), values...)
	default:
		l := &m.Latency
		pm, err = prom.NewConstHistogram(desc, l.Samples, l.Sum.Seconds(), buckets(l), values...)
	}
	if err != nil {
		return prom.NewInvalidMetric(desc, err)
	}
	return pm
}

// desc returns the cached Desc of m's full name with these label names.
func (c *Collector) desc(m tiercache.Metric, labels []string) *prom.Desc {
	name := c.FullName(m)
	key := name + "\xff" + strings.Join(labels, "\xff")
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.descs[key]
	if !ok {
		d = prom.NewDesc(name, m.Help, labels, nil)
		c.descs[key] = d
	}
	return d
}

// FullName returns the Prometheus name of a tiercache metric:
// "tier.hits" (a counter) is "tiercache_tier_hits_total", "disk.size" (a
// gauge of bytes) "tiercache_disk_size_bytes", "tier.request_duration" (a
// latency) "tiercache_tier_request_duration_seconds".
func (c *Collector) FullName(m tiercache.Metric) string {
	var b strings.Builder
	if c.namespace != "" {
		b.WriteString(c.namespace)
		b.WriteByte('_')
	}
	b.WriteString(strings.ReplaceAll(m.Name, ".", "_"))
	switch m.Unit {
	case tiercache.UnitBytes:
		b.WriteString("_bytes")
	case tiercache.UnitSeconds:
		b.WriteString("_seconds")
	}
	if m.Kind == tiercache.MetricCounter {
		b.WriteString("_total")
	}
	return b.String()
}

// buckets returns the cumulative histogram buckets of l, upper bounds in
// seconds.
func buckets(l *tiercache.LatencyStats) map[float64]uint64 {
	out := make(map[float64]uint64, maxBucket-minBucket+1)
	var cum uint64
	for b := range maxBucket + 1 {
		cum += l.Buckets[b]
		if b >= minBucket {
			out[tiercache.LatencyBucketBound(b).Seconds()] = cum
		}
	}
	return out
}
