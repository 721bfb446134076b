package memcached

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache/codec"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// BenchmarkGet measures a hit through the Manager (key mapping, Store, codec
// adapter) beside the raw cost of the same read: gomemcache Get plus
// codec.Binary Decode of the same item. Sub-benchmarks run in one process
// against one server, so the two figures are comparable.
func BenchmarkGet(b *testing.B) {
	srv := memcachedtest.Start(b)
	m := newManagerOn(b, srv.Addr, nil) // testTimeout, as raw
	c := raw(srv.Addr)
	c.MaxIdleConns = 64
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		key := "bench-" + size.name
		want := tiercachetest.Response(key, size.n)
		if _, err := m.Put(bg, key, want, ttl(time.Hour)); err != nil {
			b.Fatal(err)
		}
		b.Run(size.name+"/tiercache", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := m.Get(bg, key)
				if err != nil || got == nil {
					b.Fatalf("Get: %v, hit %v", err, got != nil)
				}
			}
		})
		rawGet := func(int) error {
			it, err := c.Get(key)
			if err != nil {
				return err
			}
			_, _, err = (codec.Binary{}).Decode(it.Value)
			return err
		}
		b.Run(size.name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rawGet(0); err != nil {
					b.Fatal(err)
				}
			}
		})
		// paired alternates the two reads op by op: loopback round trips
		// vary more between runs than the two clients differ.
		b.Run(size.name+"/paired", func(b *testing.B) {
			managerGet := func(int) error {
				got, _, err := m.Get(bg, key)
				if err == nil && got == nil {
					err = errors.New("miss")
				}
				return err
			}
			pairedGets(b, "tiercache", managerGet, "raw", rawGet)
		})
	}
}

// BenchmarkItemKey measures the key mapping each call does before any I/O:
// free for a plain key, one SHA-256 for a hashed one.
func BenchmarkItemKey(b *testing.B) {
	keys := []struct{ name, key string }{
		{"plain", "GET:https://example.com/some/path?query=1"},
		{"hashed", "GET https://example.com/some/path?query=1"},
	}
	for _, k := range keys {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = itemKey("", k.key)
			}
		})
	}
}

// BenchmarkClusterGet measures a 1 KiB hit through the ring over three
// servers beside the same hit through gomemcache's ServerList (crc32
// modulo N) over the same servers, in one process: the Store's ring, pools,
// health and counters against the raw client. Keys cycle over 64 items
// spread on the servers, each client reading items it placed itself.
// Compare with -count 5 (sub-benchmarks interleave). cpu-ns/op is the
// client process's CPU time per Get (user + system, from getrusage): the
// client's cost, which the machine's load disturbs less than wall time.
// "paired" alternates the two clients op by op and reports the ratio of
// their median latencies: the figure to trust on a busy machine.
func BenchmarkClusterGet(b *testing.B) {
	servers := memcachedtest.StartN(b, 3, memcachedtest.Options{})
	addrs := memcachedtest.Addrs(servers)
	s, err := NewStore(Config{Servers: addrs, Timeout: testTimeout})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := memcache.New(addrs...)
	c.Timeout, c.MaxIdleConns = testTimeout, 64
	keys := make([]string, 64)
	value := make([]byte, 1<<10)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET:https://example.com/bench/%d", i)
		if err := s.Set(bg, keys[i], value, time.Hour); err != nil {
			b.Fatal(err)
		}
		if err := c.Set(&memcache.Item{Key: "sl:" + keys[i], Value: value}); err != nil {
			b.Fatal(err)
		}
	}
	ringGet := func(i int) error {
		v, err := s.Get(bg, keys[i%len(keys)])
		if err == nil && v == nil {
			err = errors.New("miss")
		}
		return err
	}
	listGet := func(i int) error {
		_, err := c.Get("sl:" + keys[i%len(keys)])
		return err
	}
	b.Run("paired", func(b *testing.B) { pairedGets(b, "ring", ringGet, "serverlist", listGet) })
	for _, bc := range []struct {
		name string
		get  func(int) error
	}{{"ring", ringGet}, {"serverlist", listGet}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu := processCPU()
			for b.Loop() {
				if err := bc.get(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1)) * 7
				for pb.Next() {
					if err := bc.get(i); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// pairedGets alternates one Get through each of two clients and times
// each, so that both see the same machine load, and reports the median
// latency of each (<nameA>-ns/op, <nameB>-ns/op) and their ratio (a/b).
func pairedGets(b *testing.B, nameA string, ring func(int) error, nameB string, list func(int) error) {
	var rt, lt []time.Duration
	i := 0
	for b.Loop() {
		// Alternate which client goes first, so that neither always meets
		// the server right after the other's round trip.
		order := [2]int{0, 1}
		if i%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, k := range order {
			get := ring
			if k == 1 {
				get = list
			}
			t0 := time.Now()
			if err := get(i); err != nil {
				b.Fatal(err)
			}
			d := time.Since(t0)
			if k == 0 {
				rt = append(rt, d)
			} else {
				lt = append(lt, d)
			}
		}
		i++
	}
	slices.Sort(rt)
	slices.Sort(lt)
	mr, ml := rt[len(rt)/2], lt[len(lt)/2]
	b.ReportMetric(float64(mr), nameA+"-ns/op")
	b.ReportMetric(float64(ml), nameB+"-ns/op")
	b.ReportMetric(float64(mr)/float64(ml), "ratio")
}
