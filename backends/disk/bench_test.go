package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
	"github.com/tiercache/tiercache/tiercachetest"
)

var benchSizes = []int{4 << 10, 64 << 10}

func benchManager(b *testing.B, sync SyncMode) *Manager {
	b.Helper()
	m, err := New(Config{Dir: b.TempDir(), Sync: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkGet measures a hit: index lookup, file read, checksum, decode.
func BenchmarkGet(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			m := benchManager(b, NoSync)
			resp := tiercachetest.Response("bench", n)
			tiercachetest.MustPut(b, m, "GET https://example.com/bench", resp, tiercache.NewTTLPolicy(time.Hour))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := m.Get(ctx, "GET https://example.com/bench")
				if err != nil || got == nil {
					b.Fatal("miss", err)
				}
			}
		})
	}
}

// BenchmarkRawGet is the floor for BenchmarkGet: os.ReadFile plus a
// codec.Binary decode of the same encoded entry.
func BenchmarkRawGet(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			data, err := codec.Binary{}.Encode(tiercachetest.Response("bench", n), tiercache.NewTTLPolicy(time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "ab", "entry")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				raw, err := os.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := (codec.Binary{}).Decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPut measures a Put with each SyncMode: encode, temp file write,
// fsyncs, rename.
func BenchmarkPut(b *testing.B) {
	for _, sync := range []SyncMode{NoSync, SyncFile, SyncDir} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%v/%dKiB", sync, n>>10), func(b *testing.B) {
				m := benchManager(b, sync)
				resp := tiercachetest.Response("bench", n)
				pol := tiercache.NewTTLPolicy(time.Hour)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if _, err := m.Put(ctx, fmt.Sprintf("key-%d", i%64), resp, pol); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
