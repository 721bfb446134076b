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
	body := strings.Repeat("x", 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	tr := New(m, WithTransport(srv.Client().Transport))
	defer tr.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bench", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
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
}
