package httpcache_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/memcached"
	"github.com/tiercache/tiercache/httpcache"
)

// Example gives an HTTP client a shared two-tier cache: an in-process LRU
// over memcached. It needs a memcached on 127.0.0.1:11211, so it is compiled
// but not run by go test.
func Example() {
	front, err := lru.New(lru.Config{MaxEntries: 10_000, MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	back, err := memcached.New(memcached.Config{Servers: []string{"127.0.0.1:11211"}})
	if err != nil {
		log.Fatal(err)
	}
	stack := tiercache.NewLayered([]tiercache.Manager{front, back})
	defer stack.Close()

	tr := httpcache.New(stack,
		httpcache.WithShared(true),
		httpcache.WithErrorHook(func(req *http.Request, err error) { log.Print(err) }))
	defer tr.Close()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	resp, err := client.Get("https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) // read completely: the response is stored
	fmt.Println(resp.Header.Get("Cache-Status"), resp.Trailer.Get("Cache-Status"))
}

// Example_inMemory caches the responses of a local server in an LRU: the
// second request is a hit and never reaches the server.
func Example_inMemory() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprintf(w, "hello #%d", calls)
	}))
	defer srv.Close()

	m, err := lru.New(lru.Config{MaxEntries: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tr := httpcache.New(m, httpcache.WithTransport(srv.Client().Transport))
	defer tr.Close()
	client := &http.Client{Transport: tr}

	for range 2 {
		resp, err := client.Get(srv.URL + "/greeting")
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The header tells how the response was obtained; once the body has
		// been read, a trailer tells whether it was stored.
		status, _, _ := strings.Cut(resp.Header.Get("Cache-Status"), "; ttl=")
		final, _, _ := strings.Cut(resp.Trailer.Get("Cache-Status"), "; ttl=")
		fmt.Printf("%s | %s", body, status)
		if final != "" {
			fmt.Printf(" | %s", final)
		}
		fmt.Println()
	}
	fmt.Println("server calls:", calls)
	// Output:
	// hello #1 | tiercache; fwd=uri-miss | tiercache; fwd=uri-miss; stored
	// hello #1 | tiercache; hit
	// server calls: 1
}

// ExampleTransport_Stats reads the Transport's counters after a miss and a
// hit, as a metrics exporter would at each scrape.
func ExampleTransport_Stats() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	m, err := lru.New(lru.Config{MaxEntries: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tr := httpcache.New(m, httpcache.WithTransport(srv.Client().Transport))
	defer tr.Close()
	client := &http.Client{Transport: tr}
	for range 2 {
		resp, err := client.Get(srv.URL + "/")
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	s := tr.Stats()
	fmt.Printf("hits %d, misses %d, stores %d\n", s.Hits, s.Misses, s.Stores)
	fmt.Printf("bytes from cache %d, from origin %d\n", s.BytesFromCache, s.BytesFromOrigin)
	// Output:
	// hits 1, misses 1, stores 1
	// bytes from cache 5, from origin 5
}
