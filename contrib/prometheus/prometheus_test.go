package prometheus_test

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

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/memcached"
	tcprom "github.com/tiercache/tiercache/contrib/prometheus"
	"github.com/tiercache/tiercache/httpcache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

var ctx = context.Background()

func hour() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

func newLRU(t testing.TB) *lru.Manager {
	t.Helper()
	m, err := lru.New(lru.Config{MaxEntries: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// register returns a pedantic registry (it checks every metric's
// consistency) holding a Collector of src.
func register(t *testing.T, src any) *prom.Registry {
	t.Helper()
	reg := prom.NewPedanticRegistry()
	if err := reg.Register(tcprom.NewCollector(src)); err != nil {
		t.Fatal(err)
	}
	return reg
}

// values gathers reg into "name{label="value",...}" -> value, labels sorted
// by name as in the text exposition; a histogram gives its sample count.
func values(t *testing.T, reg prom.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var v float64
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			out[series(mf.GetName(), m)] = v
		}
	}
	return out
}

func series(name string, m *dto.Metric) string {
	var ls []string
	for _, l := range m.GetLabel() {
		ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(ls)
	if len(ls) == 0 {
		return name
	}
	return name + "{" + strings.Join(ls, ",") + "}"
}

func wantValues(t *testing.T, got map[string]float64, want map[string]float64) {
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

// newStack returns lru > Breaker(Compress(disk)), named "lru" and "disk",
// and its lower tier.
func newStack(t *testing.T) (*tiercache.Layered, tiercache.Manager) {
	t.Helper()
	d, err := disk.New(disk.Config{Dir: t.TempDir(), Sync: disk.NoSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	lower := tier.Breaker(tiercache.Compress(d))
	l := tiercache.NewLayered([]tiercache.Manager{newLRU(t), lower}, tiercache.WithTierNames("lru", "disk"))
	t.Cleanup(func() { _ = l.Close() })
	return l, lower
}

func page(s string) *tiercache.Response {
	return &tiercache.Response{Status: 200, Body: []byte(strings.Repeat("compressible text ", 100) + s)}
}

// TestCollectorStack scrapes a registry after a known sequence of calls on
// a stack and checks the exact counter values, in the text exposition for
// the per-tier counters and sample by sample for the components.
func TestCollectorStack(t *testing.T) {
	l, lower := newStack(t)
	reg := register(t, l)
	tiercachetest.MustPut(t, l, "a", page("a"), hour())     // both tiers
	tiercachetest.MustPut(t, lower, "b", page("b"), hour()) // the lower tier only
	for range 3 {
		tiercachetest.MustGet(t, l, "a", page("a")) // front hits
	}
	tiercachetest.MustGet(t, l, "b", page("b")) // front miss, disk hit, promoted
	tiercachetest.MustGet(t, l, "c", nil)       // misses everywhere

	const text = `
# HELP tiercache_tier_hits_total Get lookups that found the key in the tier.
# TYPE tiercache_tier_hits_total counter
tiercache_tier_hits_total{name="lru",tier="0"} 3
tiercache_tier_hits_total{name="disk",tier="1"} 1
# HELP tiercache_tier_misses_total Get lookups that did not find the key in the tier.
# TYPE tiercache_tier_misses_total counter
tiercache_tier_misses_total{name="lru",tier="0"} 2
tiercache_tier_misses_total{name="disk",tier="1"} 1
# HELP tiercache_tier_promotions_total Values written into the tier by promotion from a lower tier.
# TYPE tiercache_tier_promotions_total counter
tiercache_tier_promotions_total{name="lru",tier="0"} 1
tiercache_tier_promotions_total{name="disk",tier="1"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(text),
		"tiercache_tier_hits_total", "tiercache_tier_misses_total", "tiercache_tier_promotions_total"); err != nil {
		t.Fatal(err)
	}
	const disk = `{name="disk",tier="1"}`
	got := values(t, reg)
	wantValues(t, got, map[string]float64{
		"tiercache_layered_coalesced_total":              0,
		"tiercache_layered_panics_total":                 0,
		"tiercache_tier_errors_total" + disk:             0,
		"tiercache_breaker_state" + disk:                 0,
		"tiercache_breaker_opens_total" + disk:           0,
		"tiercache_compress_compressed_total" + disk:     2,
		"tiercache_compress_decompressed_total" + disk:   1,
		"tiercache_disk_entries" + disk:                  2,
		"tiercache_disk_hits_total" + disk:               1,
		"tiercache_disk_misses_total" + disk:             1,
		"tiercache_disk_max_size_bytes" + disk:           1 << 30,
		"tiercache_tier_request_duration_seconds" + disk: float64(l.Stats().Tiers[1].Latency.Samples),
		"tiercache_compress_input_bytes_total" + disk:    2 * float64(len(page("a").Body)),
	})
	if got["tiercache_compress_output_bytes_total"+disk] >= got["tiercache_compress_input_bytes_total"+disk] {
		t.Errorf("compress output %v not below input", got["tiercache_compress_output_bytes_total"+disk])
	}
}

// TestCollectorHistogram checks that a tier's sampled latencies become a
// histogram with the log2 bounds, cumulative, whose count and sum are the
// LatencyStats'.
func TestCollectorHistogram(t *testing.T) {
	l, _ := newStack(t)
	reg := register(t, l)
	for range 1000 {
		tiercachetest.MustGet(t, l, "absent", nil)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	lat := l.Stats().Tiers[1].Latency
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() == "tiercache_tier_request_duration_seconds" {
			for _, m := range mf.GetMetric() {
				if series("", m) == `{name="disk",tier="1"}` {
					h = m.GetHistogram()
				}
			}
		}
	}
	if h == nil || lat.Samples == 0 {
		t.Fatalf("no histogram for tier 1, or no samples (%+v)", lat)
	}
	if h.GetSampleCount() != lat.Samples || h.GetSampleSum() != lat.Sum.Seconds() {
		t.Errorf("count/sum %d/%v, want %d/%v", h.GetSampleCount(), h.GetSampleSum(), lat.Samples, lat.Sum.Seconds())
	}
	bs := h.GetBucket()
	if len(bs) != 35 || bs[0].GetUpperBound() != 15e-9 || bs[34].GetUpperBound() != float64(1<<38-1)/1e9 {
		t.Fatalf("%d buckets from %v to %v, want 35 from 1.5e-08 to 274.877906943", len(bs), bs[0].GetUpperBound(), bs[len(bs)-1].GetUpperBound())
	}
	var cum uint64
	for i, b := range bs {
		cum += lat.Buckets[i+4]
		if i == 0 {
			for _, c := range lat.Buckets[:4] {
				cum += c
			}
		}
		if b.GetCumulativeCount() != cum {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), cum)
		}
	}
}

// TestCollectorTransport scrapes a Transport's counters after one miss and
// two hits.
func TestCollectorTransport(t *testing.T) {
	const body = "hello, cache"
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(origin.Close)
	tr := httpcache.New(newLRU(t))
	reg := register(t, tr)
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(origin.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		if err = errors.Join(err, resp.Body.Close()); err != nil || string(got) != body {
			t.Fatalf("body %q, %v", got, err)
		}
	}
	const text = `
# HELP tiercache_http_requests_total Requests by outcome (hit, stale_hit, revalidated, miss, uncacheable, bypass, collapsed, stale_on_error, origin_error).
# TYPE tiercache_http_requests_total counter
tiercache_http_requests_total{outcome="bypass"} 0
tiercache_http_requests_total{outcome="collapsed"} 0
tiercache_http_requests_total{outcome="hit"} 2
tiercache_http_requests_total{outcome="miss"} 1
tiercache_http_requests_total{outcome="origin_error"} 0
tiercache_http_requests_total{outcome="revalidated"} 0
tiercache_http_requests_total{outcome="stale_hit"} 0
tiercache_http_requests_total{outcome="stale_on_error"} 0
tiercache_http_requests_total{outcome="uncacheable"} 0
# HELP tiercache_http_response_body_bytes_total Body bytes served, by source (cache or origin).
# TYPE tiercache_http_response_body_bytes_total counter
tiercache_http_response_body_bytes_total{source="cache"} 24
tiercache_http_response_body_bytes_total{source="origin"} 12
# HELP tiercache_http_stores_total Responses written to the cache.
# TYPE tiercache_http_stores_total counter
tiercache_http_stores_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(text), "tiercache_http_requests_total",
		"tiercache_http_response_body_bytes_total", "tiercache_http_stores_total"); err != nil {
		t.Fatal(err)
	}
	got := values(t, reg)
	wantValues(t, got, map[string]float64{
		`tiercache_http_store_refusals_total{reason="no_store"}`: 0,
		"tiercache_http_refreshes_running":                       0,
		"tiercache_http_origin_request_duration_seconds":         1,
	})
	// 9 outcomes, 2 sources, stores, 12 reasons, 4 refresh values, panics,
	// rate limited, 4 purge values, latency
	if n := len(got); n != 35 {
		t.Errorf("%d series, want 35", n)
	}
}

// TestCollectorMemcachedServers scrapes the per-server values of a real
// memcached tier, labelled with the tier and the server.
func TestCollectorMemcachedServers(t *testing.T) {
	srv := memcachedtest.Start(t)
	mc, err := memcached.New(memcached.Config{Servers: []string{srv.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	l := tiercache.NewLayered([]tiercache.Manager{newLRU(t), mc}, tiercache.WithTierNames("lru", "memcached"))
	t.Cleanup(func() { _ = l.Close() })
	reg := register(t, l)
	tiercachetest.MustPut(t, l, "a", page("a"), hour())
	tiercachetest.MustPut(t, mc, "b", page("b"), hour())
	tiercachetest.MustGet(t, l, "b", page("b"))
	tiercachetest.MustGet(t, l, "c", nil)
	if err := l.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf(`{name="memcached",server=%q,tier="1"}`, srv.Addr)
	wantValues(t, values(t, reg), map[string]float64{
		"tiercache_memcached_server_state" + s:                         0,
		"tiercache_memcached_server_weight" + s:                        1,
		"tiercache_memcached_server_gets_total" + s:                    2,
		"tiercache_memcached_server_hits_total" + s:                    1,
		"tiercache_memcached_server_misses_total" + s:                  1,
		"tiercache_memcached_server_sets_total" + s:                    2,
		"tiercache_memcached_server_deletes_total" + s:                 1,
		"tiercache_memcached_server_errors_total" + s:                  0,
		`tiercache_memcached_corrupt_total{name="memcached",tier="1"}`: 0,
		`tiercache_tier_hits_total{name="memcached",tier="1"}`:         1,
	})
}

// TestCollectorBadLabel: a tier name that is not UTF-8 makes the scrape
// report an error for that metric instead of panicking.
func TestCollectorBadLabel(t *testing.T) {
	l := tiercache.NewLayered([]tiercache.Manager{newLRU(t)}, tiercache.WithTierNames("bad\xff"))
	t.Cleanup(func() { _ = l.Close() })
	reg := prom.NewRegistry()
	reg.MustRegister(tcprom.NewCollector(l))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("Gather = %v, want an error about UTF-8", err)
	}
}

func TestFullName(t *testing.T) {
	c := tcprom.NewCollector(nil, tcprom.WithNamespace("app"))
	for _, tc := range []struct {
		m    tiercache.Metric
		want string
	}{
		{tiercache.Metric{Name: "tier.hits", Kind: tiercache.MetricCounter}, "app_tier_hits_total"},
		{tiercache.Metric{Name: "disk.size", Kind: tiercache.MetricGauge, Unit: tiercache.UnitBytes}, "app_disk_size_bytes"},
		{tiercache.Metric{Name: "compress.input", Kind: tiercache.MetricCounter, Unit: tiercache.UnitBytes}, "app_compress_input_bytes_total"},
		{tiercache.Metric{Name: "tier.request_duration", Kind: tiercache.MetricLatency, Unit: tiercache.UnitSeconds}, "app_tier_request_duration_seconds"},
	} {
		if got := c.FullName(tc.m); got != tc.want {
			t.Errorf("FullName(%s) = %q, want %q", tc.m.Name, got, tc.want)
		}
	}
}
