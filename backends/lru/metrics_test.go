package lru_test

import (
	"context"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestMetrics checks the lru.* values after a known sequence: two Puts, a
// hit, a miss and an eviction (MaxEntries 1).
func TestMetrics(t *testing.T) {
	m, err := lru.New(lru.Config{MaxEntries: 1, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ctx := context.Background()
	pol := tiercache.NewTTLPolicy(60e9)
	tiercachetest.MustPut(t, m, "a", tiercachetest.Response("a", 100), pol)
	tiercachetest.MustPut(t, m, "b", tiercachetest.Response("b", 100), pol) // evicts a
	if r, _, _ := m.Get(ctx, "b"); r == nil {
		t.Fatal("b: miss")
	}
	if r, _, _ := m.Get(ctx, "a"); r != nil {
		t.Fatal("a: hit after its eviction")
	}
	got := map[string]float64{}
	tiercache.ReadMetrics(m, func(x tiercache.Metric) {
		got[x.Name] = float64(x.Counter) + float64(x.Gauge)
	})
	want := map[string]float64{
		"lru.hits": 1, "lru.misses": 1, "lru.evictions": 1, "lru.expired": 0,
		"lru.rejections": 0, "lru.entries": 1,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	if got["lru.size"] <= 100 {
		t.Errorf("lru.size = %v, want more than the 100-byte body", got["lru.size"])
	}
}
