package memcached

import (
	"testing"
	"time"

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
		b.Run(size.name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				it, err := c.Get(key)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := (codec.Binary{}).Decode(it.Value); err != nil {
					b.Fatal(err)
				}
			}
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
