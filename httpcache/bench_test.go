package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
)

// BenchmarkTransportHit measures a fresh hit of a 1 KiB response through
// the Transport over backends/lru: key, Get, freshness, header copy,
// response, reading the body. bench/peers compares it with
// gregjones/httpcache (BenchmarkTransportHit there, or go run . -transport).
func BenchmarkTransportHit(b *testing.B) {
	tr, req := benchTransport(b, nil)
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
	tr, req := benchTransport(b, nil)
	b.ReportAllocs()
	b.SetBytes(1024)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchHit(b, tr, req)
		}
	})
}

// BenchmarkTransportHitTags measures the cost of purging by tag on a fresh
// hit: "untagged" is BenchmarkTransportHit; "tagged" adds WithPurge and a
// response with two tags (Surrogate-Key), so each hit checks three
// generations (the two tags and the URL's bucket) against this process's
// copies. Being sub-benchmarks, the two interleave under -count.
func BenchmarkTransportHitTags(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []Option
		hdr  []string
	}{
		{"untagged", nil, nil},
		{"tagged", []Option{WithPurge(true)}, []string{"Surrogate-Key: product-42 category-7"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tr, req := benchTransport(b, tc.hdr, tc.opts...)
			b.ReportAllocs()
			b.SetBytes(1024)
			b.ResetTimer()
			for b.Loop() {
				benchHit(b, tr, req)
			}
		})
	}
}

// BenchmarkMiddlewareHit compares a fresh hit through the Middleware
// (ServeHTTP writing into a minimal ResponseWriter) with one through the
// Transport, in the same run.
func BenchmarkMiddlewareHit(b *testing.B) {
	b.Run("transport", func(b *testing.B) {
		tr, req := benchTransport(b, nil)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			benchHit(b, tr, req)
		}
	})
	b.Run("middleware", func(b *testing.B) {
		m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		mw := NewMiddleware(m)
		b.Cleanup(func() { mw.Close() })
		h := mw.Wrap(benchHandler(nil))
		req := httptest.NewRequest(http.MethodGet, "http://example.com/bench", nil)
		w := &benchWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			clear(w.h)
			w.code, w.n = 0, 0
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK || w.n != 1024 {
				b.Fatal(w.code, w.n)
			}
		}
	})
}

// benchWriter is a minimal http.ResponseWriter that counts the body.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}

// benchHandler answers a fresh 1 KiB response with the header pairs hdr.
func benchHandler(hdr []string) http.HandlerFunc {
	body := strings.Repeat("x", 1024)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		for _, kv := range hdr {
			k, v, _ := cut(kv)
			w.Header().Add(k, v)
		}
		io.WriteString(w, body)
	}
}

// benchTransport returns a Transport over backends/lru holding a fresh
// 1 KiB response (with the header pairs hdr) for req.
func benchTransport(b *testing.B, hdr []string, opts ...Option) (*Transport, *http.Request) {
	srv := httptest.NewServer(benchHandler(hdr))
	b.Cleanup(srv.Close)
	m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	tr := New(m, append([]Option{WithTransport(srv.Client().Transport)}, opts...)...)
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

// BenchmarkPurgeCheck measures what WithPurge adds to a hit: the check of
// an entry's three recorded generations (two tags and the URL bucket)
// against this process's copies. BenchmarkTransportHitTags has the whole
// hit.
func BenchmarkPurgeCheck(b *testing.B) {
	tr := New(nil, WithPurge(true), WithPurgeStore(newMemManager(time.Now)))
	b.Cleanup(func() { tr.Close() })
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/bench", nil)
	h := http.Header{"Surrogate-Key": {"product-42 category-7"}}
	rec, _, ok := tr.purge.record(req, h, DefaultKey(req), time.Now())
	if !ok {
		b.Fatal("no record")
	}
	pol := tiercache.NewTTLPolicy(time.Hour).WithExtension(tiercache.ExtensionPurge, rec)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if tr.purge.check(req, pol, now) != checkCurrent {
			b.Fatal("not current")
		}
	}
}
