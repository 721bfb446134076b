package redis

import (
	"context"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/memcached"
	"github.com/tiercache/tiercache/bench/workload"
	"github.com/tiercache/tiercache/codec"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/internal/redistest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// BenchmarkGet measures a hit through the Manager (key mapping, timeout,
// Store, codec adapter) beside the raw cost of the same read: a go-redis
// GET plus codec.Binary Decode of the same value. The sub-benchmarks run in
// one process against one server, so the figures are comparable; run with
// -count to interleave them. "detached" is the Manager on a client without
// ContextTimeoutEnabled (each call in a goroutine).
func BenchmarkGet(b *testing.B) {
	srv := redistest.Start(b)
	client := newClient(b, srv.Addr, true)
	m := newManager(b, client, nil)
	detached := newManager(b, newClient(b, srv.Addr, false), nil)
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		key := "GET https://example.com/bench-" + size.name
		if _, err := m.Put(bg, key, tiercachetest.Response(key, size.n), ttl(time.Hour)); err != nil {
			b.Fatal(err)
		}
		b.Run(size.name+"/tiercache", func(b *testing.B) { benchManagerGet(b, m, key) })
		b.Run(size.name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := client.Get(bg, key).Bytes()
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := (codec.Binary{}).Decode(v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/tiercache-detached", func(b *testing.B) { benchManagerGet(b, detached, key) })
	}
}

// BenchmarkGetPaired times a Manager hit and a raw go-redis GET + decode
// of the same value alternately in one loop, so that load from other
// processes hits both alike; it reports each mean and their ratio (the
// target is at most 1.05). The clock reads (about 50 ns each) are in both.
func BenchmarkGetPaired(b *testing.B) {
	srv := redistest.Start(b)
	client := newClient(b, srv.Addr, true)
	m := newManager(b, client, nil)
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		key := "GET https://example.com/paired-" + size.name
		if _, err := m.Put(bg, key, tiercachetest.Response(key, size.n), ttl(time.Hour)); err != nil {
			b.Fatal(err)
		}
		ours := func() {
			if got, _, err := m.Get(bg, key); err != nil || got == nil {
				b.Fatalf("Get: %v, hit %v", err, got != nil)
			}
		}
		raw := func() {
			v, err := client.Get(bg, key).Bytes()
			if err == nil {
				_, _, err = (codec.Binary{}).Decode(v)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run(size.name, func(b *testing.B) {
			var tOurs, tRaw time.Duration
			for i := 0; b.Loop(); i++ {
				first, second, t1, t2 := ours, raw, &tOurs, &tRaw
				if i%2 == 1 {
					first, second, t1, t2 = raw, ours, &tRaw, &tOurs
				}
				t0 := time.Now()
				first()
				mid := time.Now()
				second()
				*t1 += mid.Sub(t0)
				*t2 += time.Since(mid)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tOurs.Nanoseconds())/n, "tiercache-ns/op")
			b.ReportMetric(float64(tRaw.Nanoseconds())/n, "raw-ns/op")
			b.ReportMetric(float64(tOurs)/float64(tRaw), "ratio")
		})
	}
}

func benchManagerGet(b *testing.B, m tiercache.Manager, key string) {
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := m.Get(bg, key)
		if err != nil || got == nil {
			b.Fatalf("Get: %v, hit %v", err, got != nil)
		}
	}
}

// BenchmarkLayouts replays one cache-aside trace (bench/workload: Zipf
// 0.99 over 5000 keys, bodies 200 B-256 KiB around 6 KiB, 95/4/1
// get/put/delete, 2 clients) on an LRU front of 16 MiB over Redis and over
// memcached, each started here, with and without zstd on the lower tier,
// in one run. ns/op is per operation of the trace; ops/s and the overall
// hit ratio are reported as metrics.
func BenchmarkLayouts(b *testing.B) {
	cfg := workload.DefaultConfig()
	cfg.Keys, cfg.Warmup, cfg.Ops = 5000, 20_000, 100_000
	w, err := workload.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rsrv := redistest.Start(b)
	msrv := memcachedtest.StartWith(b, memcachedtest.Options{Args: []string{"-m", "1024"}})
	layouts := []struct {
		name  string
		lower func(b *testing.B) tiercache.Manager
	}{
		{"lru>redis", func(b *testing.B) tiercache.Manager { return newBenchRedis(b, rsrv.Addr) }},
		{"lru>memcached", func(b *testing.B) tiercache.Manager { return newBenchMemcached(b, msrv.Addr) }},
		{"lru>zstd(redis)", func(b *testing.B) tiercache.Manager { return tiercache.Compress(newBenchRedis(b, rsrv.Addr)) }},
		{"lru>zstd(memcached)", func(b *testing.B) tiercache.Manager { return tiercache.Compress(newBenchMemcached(b, msrv.Addr)) }},
	}
	for _, lay := range layouts {
		b.Run(lay.name, func(b *testing.B) {
			front, err := lru.New(lru.Config{MaxBytes: 16 << 20})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = front.Close() })
			l := tiercache.NewLayered([]tiercache.Manager{front, lay.lower(b)})
			b.Cleanup(func() { _ = l.Close() })
			ctx := context.Background()
			workload.Replay(ctx, l, w, w.Warmup, workload.ReplayOptions{Workers: 2})
			ops := make([]workload.Op, b.N)
			for i := range ops {
				ops[i] = w.Trace[i%len(w.Trace)]
			}
			b.ResetTimer()
			res := workload.Replay(ctx, l, w, ops, workload.ReplayOptions{Workers: 2})
			b.StopTimer()
			if res.Err != nil {
				b.Fatal(res.Err)
			}
			b.ReportMetric(res.OpsPerSec(), "ops/s")
			b.ReportMetric(100*res.HitRatio(), "hit%")
		})
	}
}

// newBenchRedis returns a Manager on a fresh namespace of the server at addr.
func newBenchRedis(b *testing.B, addr string) *Manager {
	client := newClient(b, addr, true)
	if err := client.FlushAll(bg).Err(); err != nil {
		b.Fatal(err)
	}
	return newManager(b, client, nil)
}

// newBenchMemcached returns a memcached Manager on the server at addr,
// flushed first.
func newBenchMemcached(b *testing.B, addr string) *memcached.Manager {
	m, err := memcached.New(memcached.Config{Servers: []string{addr}, Timeout: testTimeout})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	if err := memcache.New(addr).FlushAll(); err != nil {
		b.Fatal(err)
	}
	return m
}
