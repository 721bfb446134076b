package tiercache_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

// readValues reads src's metrics into a map from "name{label=value,...}" to
// the value (a counter, a gauge, or a latency's sample count), checking on
// the way that each name keeps one kind, one unit and one non-empty help.
func readValues(t *testing.T, src any) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	seen := map[string]tiercache.Metric{}
	tiercache.ReadMetrics(src, func(m tiercache.Metric) {
		if first, ok := seen[m.Name]; ok && (first.Kind != m.Kind || first.Help != m.Help || first.Unit != m.Unit) {
			t.Errorf("%s: kind/help/unit %v/%q/%q, first seen as %v/%q/%q", m.Name, m.Kind, m.Help, m.Unit, first.Kind, first.Help, first.Unit)
		}
		seen[m.Name] = m
		if m.Help == "" || m.Kind == 0 {
			t.Errorf("%s has no help or kind", m.Name)
		}
		key := seriesKey(m)
		if _, dup := got[key]; dup {
			t.Errorf("%s read twice", key)
		}
		switch m.Kind {
		case tiercache.MetricCounter:
			got[key] = int64(m.Counter)
		case tiercache.MetricGauge:
			got[key] = m.Gauge
		case tiercache.MetricLatency:
			got[key] = int64(m.Latency.Samples)
		}
	})
	return got
}

func seriesKey(m tiercache.Metric) string {
	var b strings.Builder
	b.WriteString(m.Name)
	if len(m.Labels) > 0 {
		b.WriteByte('{')
		for i, l := range m.Labels {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%s", l.Name, l.Value)
		}
		b.WriteByte('}')
	}
	return b.String()
}

// wantValues fails for every entry of want that got lacks or holds another
// value.
func wantValues(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		if v, ok := got[k]; !ok || v != want[k] {
			t.Errorf("%s = %d (present %v), want %d", k, v, ok, want[k])
		}
	}
}

// newMetricsStack returns front > Breaker(Timeout(Compress(disk))), named
// "front" and "disk", and the lower tier alone.
func newMetricsStack(t *testing.T, opts ...tiercache.LayeredOption) (*tiercache.Layered, tiercache.Manager) {
	t.Helper()
	d, err := disk.New(disk.Config{Dir: t.TempDir(), Sync: disk.NoSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	lower := tier.Breaker(tier.Timeout(tiercache.Compress(d), time.Minute))
	opts = append([]tiercache.LayeredOption{tiercache.WithTierNames("front", "disk")}, opts...)
	l := tiercache.NewLayered([]tiercache.Manager{newTierFake(0, nil), lower}, opts...)
	t.Cleanup(func() { _ = l.Close() })
	return l, lower
}

// TestReadMetricsStack reads a whole stack after a known sequence of calls:
// the Layered's per-tier counters and, under each tier's labels, the
// breaker, timeout, compression and disk values of the lower tier.
func TestReadMetricsStack(t *testing.T) {
	ctx := context.Background()
	l, lower := newMetricsStack(t)
	body := strings.Repeat("compressible ", 200)
	page := func(s string) *tiercache.Response {
		r := tiercachetest.Response(s, 0)
		r.Body = []byte(body + s)
		return r
	}
	tiercachetest.MustPut(t, l, "a", page("a"), hourPolicy())     // both tiers
	tiercachetest.MustGet(t, l, "a", page("a"))                   // front hit
	tiercachetest.MustPut(t, lower, "b", page("b"), hourPolicy()) // lower tier only
	tiercachetest.MustGet(t, l, "b", page("b"))                   // front miss, disk hit, promoted
	tiercachetest.MustGet(t, l, "c", nil)                         // missed everywhere
	if err := l.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}

	got := readValues(t, l)
	const front, low = "{tier=0,name=front}", "{tier=1,name=disk}"
	wantValues(t, got, map[string]int64{
		"layered.coalesced": 0, "layered.panics": 0,
		"tier.hits" + front: 1, "tier.misses" + front: 2, "tier.errors" + front: 0, "tier.promotions" + front: 1,
		"tier.promotions_dropped" + front: 0, "tier.promotions_skipped" + front: 0,
		"tier.hits" + low: 1, "tier.misses" + low: 1, "tier.errors" + low: 0, "tier.promotions" + low: 0,
		"breaker.state" + low: 0, "breaker.opens" + low: 0, "breaker.rejected" + low: 0,
		"timeout.timeouts" + low: 0, "timeout.abandoned" + low: 0,
		"compress.compressed" + low: 2, "compress.skipped" + low: 0, "compress.decompressed" + low: 1, "compress.corrupt" + low: 0,
		"disk.entries" + low: 1, "disk.hits" + low: 1, "disk.misses" + low: 1, "disk.evictions" + low: 0,
	})
	for _, k := range []string{"tier.request_duration" + front, "tier.request_duration" + low, "disk.size" + low,
		"disk.max_size" + low, "compress.input" + low, "compress.output" + low} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if n := len(got); n != 39 { // 2 layered, 7 per tier, 5 breaker, 3 timeout, 6 compress, 9 disk
		t.Errorf("read %d values, want 39:\n%v", n, got)
	}
	if got["compress.input"+low] <= got["compress.output"+low] {
		t.Errorf("compressed %d bytes into %d", got["compress.input"+low], got["compress.output"+low])
	}
}

// TestReadMetricsLatency checks that a tier's sampled latency comes out
// whole: buckets that add up to the samples, and a sum.
func TestReadMetricsLatency(t *testing.T) {
	l, _, _ := newFakeStack(t, 2)
	for range 2000 {
		tiercachetest.MustGet(t, l, "absent", nil)
	}
	var lat tiercache.LatencyStats
	tiercache.ReadMetrics(l, func(m tiercache.Metric) {
		if m.Name == "tier.request_duration" && m.Labels[0].Value == "1" {
			lat = m.Latency
		}
	})
	var total uint64
	for _, c := range lat.Buckets {
		total += c
	}
	if lat.Samples == 0 || total != lat.Samples || lat.Sum < lat.Max || lat.Mean != lat.Sum/time.Duration(lat.Samples) {
		t.Fatalf("latency of tier 1: %+v", lat)
	}
}

// TestReadMetricsBus reads the bus link's values.
func TestReadMetricsBus(t *testing.T) {
	bus := &fakeBus{}
	l, _, _ := newFakeStack(t, 2, tiercache.WithBus(bus))
	waitFor(t, "subscription up", func() bool { return l.BusStats().Up == 1 })
	tiercachetest.MustPut(t, l, "k", tiercachetest.Response("k", 8), hourPolicy())
	waitFor(t, "echo", func() bool { return l.BusStats().Echoes == 1 })
	wantValues(t, readValues(t, l), map[string]int64{
		"layered.bus.publishes": 1, "layered.bus.echoes": 1, "layered.bus.up": 1,
		"layered.bus.publish_errors": 0, "layered.bus.losses": 0,
	})
}

// TestMetricWriterLabels checks that writers derived from one another do
// not share label storage.
func TestMetricWriterLabels(t *testing.T) {
	var got []string
	w := tiercache.NewMetricWriter(func(m tiercache.Metric) { got = append(got, seriesKey(m)) })
	a := w.With(tiercache.Label{Name: "tier", Value: "0"})
	b := a.With(tiercache.Label{Name: "x", Value: "1"})
	c := a.With(tiercache.Label{Name: "y", Value: "2"})
	b.Counter("m", "h", 1, tiercache.Label{Name: "z", Value: "3"})
	c.Counter("m", "h", 1)
	a.Gauge("m", "h", 1, tiercache.Label{Name: "q", Value: "4"})
	b.Counter("m", "h", 1)
	a.With(tiercache.Label{Name: "tier", Value: "9"}).Counter("m", "h", 1) // replaces
	b.Counter("m", "h", 1, tiercache.Label{Name: "x", Value: "5"})         // replaces
	tiercache.MetricWriter{}.Counter("dropped", "h", 1)                    // the zero writer discards
	want := []string{"m{tier=0,x=1,z=3}", "m{tier=0,y=2}", "m{tier=0,q=4}", "m{tier=0,x=1}", "m{tier=9}", "m{tier=0,x=5}"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// selfWrapper unwraps to itself: ReadMetrics must still end.
type selfWrapper struct{ *tierFake }

func (s selfWrapper) Unwrap() tiercache.Manager { return s }

func (s selfWrapper) Metrics(w tiercache.MetricWriter) { w.Counter("self.reads", "reads", 1) }

func TestReadMetricsEndsOnCycles(t *testing.T) {
	n := 0
	tiercache.ReadMetrics(selfWrapper{newTierFake(0, nil)}, func(tiercache.Metric) { n++ })
	if n == 0 || n > 64 {
		t.Fatalf("read %d values", n)
	}
	tiercache.ReadMetrics(nil, func(tiercache.Metric) { t.Fatal("nil source wrote a value") })
	if tiercache.Unwrap(newTierFake(0, nil)) != nil {
		t.Fatal("Unwrap of a backend is not nil")
	}
}

// TestReadMetricsNestedLayered: a Layered that is a tier of another labels
// its tiers with their path, so that no label appears twice.
func TestReadMetricsNestedLayered(t *testing.T) {
	inner := tiercache.NewLayered([]tiercache.Manager{newTierFake(0, nil), newTierFake(1, nil)},
		tiercache.WithTierNames("near", ""))
	t.Cleanup(func() { _ = inner.Close() })
	outer := tiercache.NewLayered([]tiercache.Manager{newTierFake(0, nil), inner}, tiercache.WithTierNames("front", "remote"))
	t.Cleanup(func() { _ = outer.Close() })
	tiercachetest.MustGet(t, outer, "k", nil)
	got := readValues(t, outer)
	wantValues(t, got, map[string]int64{
		"tier.misses{tier=0,name=front}":         1,
		"tier.misses{tier=1,name=remote}":        1,
		"layered.coalesced{tier=1,name=remote}":  0,
		"tier.misses{tier=1.0,name=remote/near}": 1,
		"tier.misses{tier=1.1,name=remote}":      1,
	})
	for k := range got {
		if strings.Count(k, "tier=") > 1 {
			t.Errorf("%s has two tier labels", k)
		}
	}
}
