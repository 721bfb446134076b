package otel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/backends/lru"
	tcotel "github.com/tiercache/tiercache/contrib/otel"
	"github.com/tiercache/tiercache/httpcache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

var ctx = context.Background()

func hour() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

func page(s string) *tiercache.Response {
	return &tiercache.Response{Status: 200, Body: []byte(strings.Repeat("compressible text ", 100) + s)}
}

func newLRU(t *testing.T) *lru.Manager {
	t.Helper()
	m, err := lru.New(lru.Config{MaxEntries: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// register returns a ManualReader whose MeterProvider has src's
// instruments registered.
func register(t *testing.T, src any) *sdkmetric.ManualReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	reg, err := tcotel.Register(mp, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Unregister() })
	return reader
}

// collect reads reader into "name{k=v,...}" -> value, attributes sorted,
// and checks the instrumentation scope.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tcotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("%s: monotonic %v, temporality %v", m.Name, d.IsMonotonic, d.Temporality)
				}
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes.ToSlice())] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes.ToSlice())] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes.ToSlice())] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes.ToSlice())] = p.Value
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func key(name string, kvs []attribute.KeyValue) string {
	if len(kvs) == 0 {
		return name
	}
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = fmt.Sprintf("%s=%s", kv.Key, kv.Value.String())
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func wantValues(t *testing.T, got, want map[string]float64) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := got[k]; !ok || v != want[k] {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want[k])
		}
	}
}

// TestRegisterStack collects with the SDK's ManualReader after a known
// sequence of calls on lru > Breaker(Compress(disk)) and checks exact
// values, the per-tier attributes and the latency instruments.
func TestRegisterStack(t *testing.T) {
	d, err := disk.New(disk.Config{Dir: t.TempDir(), Sync: disk.NoSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	lower := tier.Breaker(tiercache.Compress(d))
	l := tiercache.NewLayered([]tiercache.Manager{newLRU(t), lower}, tiercache.WithTierNames("lru", "disk"))
	t.Cleanup(func() { _ = l.Close() })
	reader := register(t, l)

	tiercachetest.MustPut(t, l, "a", page("a"), hour())
	tiercachetest.MustPut(t, lower, "b", page("b"), hour())
	for range 3 {
		tiercachetest.MustGet(t, l, "a", page("a"))
	}
	tiercachetest.MustGet(t, l, "b", page("b"))
	tiercachetest.MustGet(t, l, "c", nil)

	const front, low = "{name=lru,tier=0}", "{name=disk,tier=1}"
	lat := l.Stats().Tiers[1].Latency
	got := collect(t, reader)
	wantValues(t, got, map[string]float64{
		"tiercache.layered.coalesced":                 0,
		"tiercache.tier.hits" + front:                 3,
		"tiercache.tier.misses" + front:               2,
		"tiercache.tier.promotions" + front:           1,
		"tiercache.tier.hits" + low:                   1,
		"tiercache.tier.misses" + low:                 1,
		"tiercache.breaker.state" + low:               0,
		"tiercache.compress.compressed" + low:         2,
		"tiercache.compress.decompressed" + low:       1,
		"tiercache.compress.input" + low:              2 * float64(len(page("a").Body)),
		"tiercache.disk.entries" + low:                2,
		"tiercache.disk.hits" + low:                   1,
		"tiercache.disk.max_size" + low:               1 << 30,
		"tiercache.tier.request_duration.count" + low: float64(lat.Samples),
		"tiercache.tier.request_duration.sum" + low:   lat.Sum.Seconds(),
		"tiercache.tier.request_duration.max" + low:   lat.Max.Seconds(),
		"tiercache.tier.request_duration.p99" + low:   lat.P99.Seconds(),
		"tiercache.tier.request_duration.p50" + front: l.Stats().Tiers[0].Latency.P50.Seconds(),
	})
}

// TestRegisterTransport checks a Transport's values after one miss and two
// hits.
func TestRegisterTransport(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, "hello, cache")
	}))
	t.Cleanup(origin.Close)
	tr := httpcache.New(newLRU(t))
	reader := register(t, tr)
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(origin.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		if err := errors.Join(err, resp.Body.Close()); err != nil {
			t.Fatal(err)
		}
	}
	wantValues(t, collect(t, reader), map[string]float64{
		"tiercache.http.requests{outcome=hit}":           2,
		"tiercache.http.requests{outcome=miss}":          1,
		"tiercache.http.requests{outcome=bypass}":        0,
		"tiercache.http.response_body{source=cache}":     24,
		"tiercache.http.response_body{source=origin}":    12,
		"tiercache.http.stores":                          1,
		"tiercache.http.store_refusals{reason=no_store}": 0,
		"tiercache.http.origin_request_duration.count":   1,
	})
}

// TestUnregisterStops: after Unregister the source is no longer read.
func TestUnregisterStops(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })
	l := tiercache.NewLayered([]tiercache.Manager{newLRU(t)})
	t.Cleanup(func() { _ = l.Close() })
	reg, err := tcotel.Register(mp, l, tcotel.WithPrefix("app."))
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, reader); got["app.tier.hits{name=,tier=0}"] != 0 || len(got) == 0 {
		t.Fatalf("before Unregister: %v", got)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, reader); len(got) != 0 {
		t.Fatalf("after Unregister: %v", got)
	}
	if _, err := tcotel.Register(nil, l); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Register(nil) = %v, want ErrInvalid", err)
	}
}
