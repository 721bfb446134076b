package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tiercache/tiercache/backends/lru"
)

// BenchmarkTransportHit measures a fresh hit of a 1 KiB response through
// the Transport over backends/lru: key, Get, freshness, header copy,
// response, reading the body. bench/peers compares it with
// gregjones/httpcache (BenchmarkTransportHit there, or go run . -transport).
func BenchmarkTransportHit(b *testing.B) {
	tr, req := benchTransport(b)
	b.ReportAllocs()
	b.SetBytes(1024)
	b.ResetTimer()
	for b.Loop() {
		benchHit(b, tr, req)
	}
}

// BenchmarkTransportHitParallel is BenchmarkTransportHit from GOMAXPROCS
// goroutines: the Stats counters are sharded, so hits on different cores
// do not share a cache line.
func BenchmarkTransportHitParallel(b *testing.B) {
	tr, req := benchTransport(b)
	b.ReportAllocs()
	b.SetBytes(1024)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchHit(b, tr, req)
		}
	})
}

// benchTransport returns a Transport over backends/lru holding a fresh
// 1 KiB response for req.
func benchTransport(b *testing.B) (*Transport, *http.Request) {
	body := strings.Repeat("x", 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, body)
	}))
	b.Cleanup(srv.Close)
	m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	tr := New(m, WithTransport(srv.Client().Transport))
	b.Cleanup(func() { tr.Close() })
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bench", nil)
	benchHit(b, tr, req)
	return tr, req
}

func benchHit(b *testing.B, tr *Transport, req *http.Request) {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
}
