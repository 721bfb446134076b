package tiercache_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	hlru "github.com/hashicorp/golang-lru/v2"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/tiercachetest"
)

// layeredBenchHot is the number of keys the hit benchmarks cycle through.
const layeredBenchHot = 1024

var layeredBenchKeys = func() []string {
	keys := make([]string, 4*layeredBenchHot)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/item/%d", i)
	}
	return keys
}()

// newLayeredBenchLRU returns a backends/lru Manager holding the first n bench keys.
func newLayeredBenchLRU(b *testing.B, cfg lru.Config, n int) *lru.Manager {
	b.Helper()
	m, err := lru.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	for _, k := range layeredBenchKeys[:n] {
		tiercachetest.MustPut(b, m, k, tiercachetest.Response(k, 512), hourPolicy())
	}
	return m
}

// newLayeredBenchStack returns a Layered over a full LRU front and a fake lower tier.
func newLayeredBenchStack(b *testing.B) *tiercache.Layered {
	b.Helper()
	front := newLayeredBenchLRU(b, lru.Config{}, layeredBenchHot)
	l := tiercache.NewLayered([]tiercache.Manager{front, newTierFake(1, nil)})
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// newLayeredBenchRaw returns a raw golang-lru cache holding the same entries.
func newLayeredBenchRaw(b *testing.B) *hlru.Cache[string, tierFakeEntry] {
	b.Helper()
	c, err := hlru.New[string, tierFakeEntry](lru.DefaultMaxEntries)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range layeredBenchKeys[:layeredBenchHot] {
		c.Add(k, tierFakeEntry{tiercachetest.Response(k, 512), hourPolicy()})
	}
	return c
}

func BenchmarkRawLRUGet(b *testing.B) {
	c := newLayeredBenchRaw(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.Get(layeredBenchKeys[i%layeredBenchHot]); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkRawLRUGetParallel(b *testing.B) {
	c := newLayeredBenchRaw(b)
	benchLayeredParallel(b, func(key string) bool { _, ok := c.Get(key); return ok })
}

// BenchmarkFrontTierGet is the front tier (backends/lru) alone: the
// difference to BenchmarkLayeredFrontHit is what Layered adds.
func BenchmarkFrontTierGet(b *testing.B) {
	benchLayeredGet(b, newLayeredBenchLRU(b, lru.Config{}, layeredBenchHot))
}

func BenchmarkFrontTierGetParallel(b *testing.B) {
	benchLayeredGetParallel(b, newLayeredBenchLRU(b, lru.Config{}, layeredBenchHot))
}

func BenchmarkLayeredFrontHit(b *testing.B) {
	benchLayeredGet(b, newLayeredBenchStack(b))
}

func BenchmarkLayeredFrontHitParallel(b *testing.B) {
	benchLayeredGetParallel(b, newLayeredBenchStack(b))
}

func benchLayeredGet(b *testing.B, m tiercache.Manager) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if resp, _, _ := m.Get(ctx, layeredBenchKeys[i%layeredBenchHot]); resp == nil {
			b.Fatal("miss")
		}
	}
}

func benchLayeredGetParallel(b *testing.B, m tiercache.Manager) {
	ctx := context.Background()
	benchLayeredParallel(b, func(key string) bool { resp, _, _ := m.Get(ctx, key); return resp != nil })
}

func benchLayeredParallel(b *testing.B, get func(key string) bool) {
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919) // each goroutine starts elsewhere in the keys
		for ; pb.Next(); i++ {
			if !get(layeredBenchKeys[i%layeredBenchHot]) {
				b.Error("miss")
				return
			}
		}
	})
}

// BenchmarkLayeredL2HitPromote: every Get misses a small LRU front (it holds
// a quarter of the cycled keys, so the key asked for has been evicted), hits
// the second tier (an LRU holding every key) and promotes synchronously,
// evicting another key from the front.
func BenchmarkLayeredL2HitPromote(b *testing.B) {
	n := len(layeredBenchKeys)
	front := newLayeredBenchLRU(b, lru.Config{MaxEntries: n / 4, Shards: 1}, 0)
	second := newLayeredBenchLRU(b, lru.Config{}, n)
	l := tiercache.NewLayered([]tiercache.Manager{front, second})
	b.Cleanup(func() { _ = l.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if resp, _, _ := l.Get(ctx, layeredBenchKeys[i%n]); resp == nil {
			b.Fatal("miss")
		}
	}
	st := l.Stats()
	if st.Tiers[1].Hits > 0 {
		b.ReportMetric(float64(st.Tiers[0].Promotions)/float64(st.Tiers[1].Hits), "promotions/L2hit")
	}
}
