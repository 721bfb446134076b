package lru

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	hlru "github.com/hashicorp/golang-lru/v2"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// hotKeys is the number of keys every Get benchmark cycles over.
const hotKeys = 1024

var benchKeys = func() []string {
	keys := make([]string, hotKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/page/%d", i)
	}
	return keys
}()

// rawEntry is what a raw golang-lru cache would hold for the same data.
type rawEntry struct {
	resp     *tiercache.Response
	pol      *tiercache.Policy
	deadline int64
}

func benchManager(b *testing.B, cfg Config) *Manager {
	b.Helper()
	m := newManager(b, cfg)
	pol := tiercache.NewTTLPolicy(time.Hour)
	for _, k := range benchKeys {
		tiercachetest.MustPut(b, m, k, tiercachetest.Response(k, 1024), pol)
	}
	return m
}

func benchRaw(b *testing.B) *hlru.Cache[string, *rawEntry] {
	b.Helper()
	c, err := hlru.New[string, *rawEntry](DefaultMaxEntries)
	if err != nil {
		b.Fatal(err)
	}
	pol := tiercache.NewTTLPolicy(time.Hour)
	for _, k := range benchKeys {
		c.Add(k, &rawEntry{tiercachetest.Response(k, 1024), pol, time.Now().Add(time.Hour).UnixNano()})
	}
	return c
}

// evictions are the Config.Eviction values every benchmark runs with.
var evictions = []Eviction{LRU, ARC, Adaptive}

func BenchmarkGet(b *testing.B) {
	for _, ev := range evictions {
		b.Run(ev.String(), func(b *testing.B) {
			m, ctx := benchManager(b, Config{Eviction: ev}), context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if resp, _, _ := m.Get(ctx, benchKeys[i%hotKeys]); resp == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkRawLRUGet(b *testing.B) {
	c := benchRaw(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.Get(benchKeys[i%hotKeys]); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	for _, ev := range evictions {
		b.Run(ev.String(), func(b *testing.B) { benchGetParallel(b, benchManager(b, Config{Eviction: ev})) })
	}
}

// BenchmarkGetParallelShards measures the shard counts the default is chosen from.
func BenchmarkGetParallelShards(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8, 16, 32, 64} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchGetParallel(b, benchManager(b, Config{Shards: n})) })
	}
}

func benchGetParallel(b *testing.B, m *Manager) {
	ctx := context.Background()
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919) // each goroutine starts elsewhere in the keys
		for ; pb.Next(); i++ {
			if resp, _, _ := m.Get(ctx, benchKeys[i%hotKeys]); resp == nil {
				b.Error("miss")
				return
			}
		}
	})
}

func BenchmarkRawLRUGetParallel(b *testing.B) {
	c := benchRaw(b)
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for ; pb.Next(); i++ {
			if _, ok := c.Get(benchKeys[i%hotKeys]); !ok {
				b.Error("miss")
				return
			}
		}
	})
}

// BenchmarkPut overwrites hot keys: the steady state of a cache that holds
// its working set.
func BenchmarkPut(b *testing.B) {
	for _, ev := range evictions {
		b.Run(ev.String(), func(b *testing.B) {
			m, ctx := benchManager(b, Config{Eviction: ev}), context.Background()
			resp, pol := tiercachetest.Response("put", 1024), tiercache.NewTTLPolicy(time.Hour)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := m.Put(ctx, benchKeys[i%hotKeys], resp, pol); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawLRUPut(b *testing.B) {
	c := benchRaw(b)
	resp, pol := tiercachetest.Response("put", 1024), tiercache.NewTTLPolicy(time.Hour)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Add(benchKeys[i%hotKeys], &rawEntry{resp, pol, time.Now().Add(time.Hour).UnixNano()})
	}
}

// BenchmarkPutEvict inserts new keys into a full cache: every Put evicts
// (or, for Adaptive, is refused). Small is a 512-entry cache, whose
// Adaptive climber simulates half the keys; Large a 32,768-entry cache, which
// simulates 1 key in 32.
func BenchmarkPutEvict(b *testing.B) {
	for _, size := range []struct {
		name    string
		entries int
	}{{"Small", hotKeys / 2}, {"Large", 32768}} {
		keys := make([]string, 2*size.entries)
		for i := range keys {
			keys[i] = fmt.Sprintf("GET https://example.com/evict/%d", i)
		}
		for _, ev := range evictions {
			b.Run(size.name+"/"+ev.String(), func(b *testing.B) {
				m, ctx := newManager(b, Config{MaxEntries: size.entries, Shards: 1, Eviction: ev}), context.Background()
				resp, pol := tiercachetest.Response("put", 1024), tiercache.NewTTLPolicy(time.Hour)
				for _, k := range keys {
					tiercachetest.MustPut(b, m, k, resp, pol)
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := m.Put(ctx, keys[i%len(keys)], resp, pol); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGetFull measures hits in a full 16,384-entry cache (Adaptive's
// climber simulating 1 key in 16), on 1,024 hot keys requested until they
// are resident, beside raw golang-lru filled the same way.
func BenchmarkGetFull(b *testing.B) {
	const entries = 16384
	cold := make([]string, 2*entries)
	for i := range cold {
		cold[i] = fmt.Sprintf("GET https://example.com/cold/%d", i)
	}
	resp, pol := tiercachetest.Response("full", 1024), tiercache.NewTTLPolicy(time.Hour)
	for _, ev := range evictions {
		b.Run(ev.String(), func(b *testing.B) {
			m, ctx := newManager(b, Config{MaxEntries: entries, Shards: 1, Eviction: ev}), context.Background()
			for _, k := range cold {
				tiercachetest.MustPut(b, m, k, resp, pol)
			}
			for range 20 {
				for _, k := range benchKeys {
					if got, _, _ := m.Get(ctx, k); got == nil {
						tiercachetest.MustPut(b, m, k, resp, pol)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			hits := 0
			for i := 0; b.Loop(); i++ {
				if got, _, _ := m.Get(ctx, benchKeys[i%hotKeys]); got != nil {
					hits++
				}
			}
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
	b.Run("raw", func(b *testing.B) {
		c, err := hlru.New[string, *rawEntry](entries)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range append(cold, benchKeys...) {
			c.Add(k, &rawEntry{resp, pol, time.Now().Add(time.Hour).UnixNano()})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, ok := c.Get(benchKeys[i%hotKeys]); !ok {
				b.Fatal("miss")
			}
		}
	})
}
