package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/gregjones/httpcache"

	"github.com/tiercache/tiercache/backends/lru"
	tchttp "github.com/tiercache/tiercache/httpcache"
)

// The Transport comparison: a fresh hit of a 1 KiB response through
// tiercache's httpcache.Transport over backends/lru, and through
// gregjones/httpcache.Transport over its MemoryCache, both in front of the
// same local httptest origin. BenchmarkTransportHit and the -transport flag
// run it.

// transportBody is the origin's response body.
var transportBody = strings.Repeat("x", 1024)

// newTransportOrigin serves a cacheable 1 KiB response with a validator.
func newTransportOrigin() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, transportBody)
	}))
}

// transportPeer is one caching RoundTripper to measure.
type transportPeer struct {
	name string
	open func(upstream http.RoundTripper) (http.RoundTripper, func(), error)
	// isHit reports whether a response was served from the cache.
	isHit func(resp *http.Response) bool
}

var transportPeers = []transportPeer{
	{
		name: "tiercache",
		open: func(upstream http.RoundTripper) (http.RoundTripper, func(), error) {
			m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
			if err != nil {
				return nil, nil, err
			}
			tr := tchttp.New(m, tchttp.WithTransport(upstream))
			return tr, func() { tr.Close(); m.Close() }, nil
		},
		isHit: func(resp *http.Response) bool {
			return strings.HasPrefix(resp.Header.Get("Cache-Status"), "tiercache; hit")
		},
	},
	{
		// tiercache with purge by tag and URL on: each hit also checks the
		// generation of the URL's bucket (the origin sends no tags).
		name: "tiercache+purge",
		open: func(upstream http.RoundTripper) (http.RoundTripper, func(), error) {
			m, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 1 << 20})
			if err != nil {
				return nil, nil, err
			}
			tr := tchttp.New(m, tchttp.WithTransport(upstream), tchttp.WithPurge(true))
			return tr, func() { tr.Close(); m.Close() }, nil
		},
		isHit: func(resp *http.Response) bool {
			return strings.HasPrefix(resp.Header.Get("Cache-Status"), "tiercache; hit")
		},
	},
	{
		name: "gregjones",
		open: func(upstream http.RoundTripper) (http.RoundTripper, func(), error) {
			tr := httpcache.NewMemoryCacheTransport()
			tr.Transport = upstream
			return tr, func() {}, nil
		},
		isHit: func(resp *http.Response) bool { return resp.Header.Get(httpcache.XFromCache) == "1" },
	},
}

// benchTransportHit measures fresh hits of p: RoundTrip, read the body,
// close it.
func benchTransportHit(b *testing.B, p transportPeer) {
	srv := newTransportOrigin()
	defer srv.Close()
	rt, closeFn, err := p.open(srv.Client().Transport)
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 2 { // store, then check that the next one is a hit
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		readAll(b, resp)
		if i == 1 && !p.isHit(resp) {
			b.Fatalf("%s: second request was not a hit: %v", p.name, resp.Header)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(transportBody)))
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		readAll(b, resp)
	}
}

func readAll(b *testing.B, resp *http.Response) {
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || n != int64(len(transportBody)) {
		b.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
}

// runTransport runs the Transport comparison and prints ns/op, B/op and
// allocs/op of each peer and the ratio to tiercache.
func runTransport(stdout io.Writer) int {
	fmt.Fprintf(stdout, "Transport fresh hit, %d B body, local httptest origin\n\n", len(transportBody))
	var results []testing.BenchmarkResult
	for _, p := range transportPeers {
		results = append(results, testing.Benchmark(func(b *testing.B) { benchTransportHit(b, p) }))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\tns/op\tB/op\tallocs/op\tvs tiercache\t")
	for i, p := range transportPeers {
		r := results[i]
		if r.N == 0 {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\n", p.name)
			continue
		}
		ratio := float64(r.NsPerOp()) / float64(max(results[0].NsPerOp(), 1))
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2fx\t\n", p.name, r.NsPerOp(), r.AllocedBytesPerOp(), r.AllocsPerOp(), ratio)
	}
	tw.Flush()
	return 0
}
