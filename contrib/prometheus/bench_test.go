package prometheus_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hlru "github.com/hashicorp/golang-lru/v2"
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	tcprom "github.com/tiercache/tiercache/contrib/prometheus"
)

// benchHot is the number of keys the hit benchmarks cycle through.
const benchHot = 1024

var benchKeys = func() []string {
	keys := make([]string, benchHot)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/item/%d", i)
	}
	return keys
}()

type rawEntry struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
}

// BenchmarkFrontHit measures the cost of metrics on the hot path: a front
// hit of a Layered (backends/lru front over another LRU) whose Collector is
// registered and scraped every 100 ms by a background goroutine, beside the
// same Layered without a Collector and a raw golang-lru Cache.Get of the
// same entries, in the same run. "scrapes" is the number of scrapes that
// ran during the last measured loop.
func BenchmarkFrontHit(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		suffix := ""
		if parallel {
			suffix = "-parallel"
		}
		b.Run("raw-golang-lru"+suffix, func(b *testing.B) {
			c, err := hlru.New[string, rawEntry](lru.DefaultMaxEntries)
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range benchKeys {
				c.Add(k, rawEntry{page(k), hour()})
			}
			run(b, parallel, func(key string) bool { _, ok := c.Get(key); return ok })
		})
		b.Run("layered-unscraped"+suffix, func(b *testing.B) {
			l := newBenchStack(b)
			run(b, parallel, func(key string) bool { resp, _, _ := l.Get(ctx, key); return resp != nil })
		})
		b.Run("layered-scraped"+suffix, func(b *testing.B) {
			l := newBenchStack(b)
			reg := prom.NewRegistry()
			reg.MustRegister(tcprom.NewCollector(l))
			scrapes := scrapeEvery(b, reg, 100*time.Millisecond)
			run(b, parallel, func(key string) bool { resp, _, _ := l.Get(ctx, key); return resp != nil })
			b.ReportMetric(float64(scrapes()), "scrapes")
		})
	}
}

func newBenchStack(b *testing.B) *tiercache.Layered {
	b.Helper()
	front, back := newLRU(b), newLRU(b)
	for _, k := range benchKeys {
		if _, err := front.Put(ctx, k, page(k), hour()); err != nil {
			b.Fatal(err)
		}
	}
	l := tiercache.NewLayered([]tiercache.Manager{front, back}, tiercache.WithTierNames("lru", "lru2"))
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// run times get over the hot keys, serially or with RunParallel; every
// call must hit.
func run(b *testing.B, parallel bool, get func(key string) bool) {
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; i < b.N; i++ {
			if !get(benchKeys[i%benchHot]) {
				b.Fatal("miss")
			}
		}
		return
	}
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			if !get(benchKeys[i%benchHot]) {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

// scrapeEvery gathers reg every d until the benchmark ends and returns a
// function giving the number of scrapes so far.
func scrapeEvery(b *testing.B, reg prom.Gatherer, d time.Duration) func() int64 {
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := reg.Gather(); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		}
	})
	b.Cleanup(func() { close(stop); wg.Wait() })
	return n.Load
}

// BenchmarkScrape is one Gather of a registry holding the Collector of a
// two-tier stack with a busy lower tier (so that its histogram has
// samples): what each scrape costs the process.
func BenchmarkScrape(b *testing.B) {
	l := newBenchStack(b)
	for i := range 10_000 {
		_, _, _ = l.Get(ctx, fmt.Sprint("absent", i))
	}
	reg := prom.NewRegistry()
	reg.MustRegister(tcprom.NewCollector(l))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
