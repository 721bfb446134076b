package httpcache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/httpcache"
)

// newLRU returns an in-process cache for the examples.
func newLRU() *lru.Manager {
	m, err := lru.New(lru.Config{MaxEntries: 1000})
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// get sends GET url with client and prints the body and Cache-Status.
func get(client *http.Client, url string) {
	resp, err := client.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cs := resp.Trailer.Get("Cache-Status") // set when the body was stored after the header went out
	if cs == "" {
		cs = resp.Header.Get("Cache-Status")
	}
	var members []string
	for m := range strings.SplitSeq(cs, "; ") {
		if !strings.HasPrefix(m, "ttl=") { // the ttl depends on the clock
			members = append(members, m)
		}
	}
	fmt.Printf("%s | %s\n", body, strings.Join(members, "; "))
}

// ExampleNewMiddleware puts a shared cache in front of a handler, as a CDN
// or Varnish would: the second request never reaches the handler.
func ExampleNewMiddleware() {
	var calls atomic.Int64
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprintf(w, "page #%d", calls.Add(1))
	})
	mw := httpcache.NewMiddleware(newLRU())
	defer mw.Close()
	srv := httptest.NewServer(mw.Wrap(app)) // with chi: r.Use(mw.Wrap)
	defer srv.Close()

	get(srv.Client(), srv.URL+"/")
	get(srv.Client(), srv.URL+"/")
	fmt.Println("handler calls:", calls.Load(), "hits:", mw.Stats().Hits)
	// Output:
	// page #1 | tiercache; fwd=uri-miss; stored
	// page #1 | tiercache; hit
	// handler calls: 1 hits: 1
}

// ExampleMiddleware_PurgeTag tags responses with Surrogate-Key and purges
// every response of one product at once (one write, whatever their number).
// The tag field is stripped from what clients receive.
func ExampleMiddleware_PurgeTag() {
	var version atomic.Int64
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Surrogate-Key", "product-42 "+strings.TrimPrefix(r.URL.Path, "/"))
		fmt.Fprintf(w, "%s v%d", r.URL.Path, version.Load())
	})
	mw := httpcache.NewMiddleware(newLRU(), httpcache.WithPurge(true))
	defer mw.Close()
	srv := httptest.NewServer(mw.Wrap(app))
	defer srv.Close()

	get(srv.Client(), srv.URL+"/price")
	get(srv.Client(), srv.URL+"/stock")
	version.Add(1)
	if err := mw.PurgeTag(context.Background(), "product-42"); err != nil {
		log.Fatal(err)
	}
	get(srv.Client(), srv.URL+"/price")
	get(srv.Client(), srv.URL+"/stock")
	// Output:
	// /price v0 | tiercache; fwd=uri-miss; stored
	// /stock v0 | tiercache; fwd=uri-miss; stored
	// /price v1 | tiercache; fwd=miss; stored; detail=purged
	// /stock v1 | tiercache; fwd=miss; stored; detail=purged
}

// ExamplePurgeHandler serves PURGE requests next to the cached
// application, Varnish style: PURGE /path purges that URL, and a
// Surrogate-Key field names tags instead. Only requests the authorize
// function accepts purge anything.
func ExamplePurgeHandler() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "hello")
	})
	mw := httpcache.NewMiddleware(newLRU(), httpcache.WithPurge(true))
	defer mw.Close()
	cached := mw.Wrap(app)
	purge := httpcache.PurgeHandler(mw, func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Bearer purge-secret"
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PURGE" {
			purge.ServeHTTP(w, r)
			return
		}
		cached.ServeHTTP(w, r)
	}))
	defer srv.Close()

	get(srv.Client(), srv.URL+"/a")
	for _, auth := range []string{"", "Bearer purge-secret"} {
		req, _ := http.NewRequest("PURGE", srv.URL+"/a", nil)
		req.Header.Set("Authorization", auth)
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println("PURGE:", resp.Status)
	}
	get(srv.Client(), srv.URL+"/a")
	// Output:
	// hello | tiercache; fwd=uri-miss; stored
	// PURGE: 403 Forbidden
	// PURGE: 200 OK
	// hello | tiercache; fwd=uri-miss; stored
}

// origin starts a server answering max-age=60 responses counting calls,
// and returns a client for it through a Transport with opts.
func origin(opts ...httpcache.Option) (*http.Client, string, func()) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/error" {
			w.WriteHeader(http.StatusBadGateway)
		}
		fmt.Fprintf(w, "%s %s #%d", r.Method, r.URL.Path, calls.Add(1))
	}))
	tr := httpcache.New(newLRU(), append([]httpcache.Option{httpcache.WithTransport(srv.Client().Transport)}, opts...)...)
	return &http.Client{Transport: tr}, srv.URL, func() { tr.Close(); srv.Close() }
}

// ExampleWithCacheBust makes a POST to /items delete the stored /list once
// it succeeded.
func ExampleWithCacheBust() {
	var base string
	client, base, stop := origin(httpcache.WithCacheBust(func(req *http.Request, key string) []string {
		if req.Method == http.MethodPost && req.URL.Path == "/items" {
			list, _ := http.NewRequest(http.MethodGet, base+"/list", nil)
			return []string{httpcache.DefaultKey(list)}
		}
		return nil
	}))
	defer stop()
	get(client, base+"/list")
	get(client, base+"/list")
	resp, err := client.Post(base+"/items", "text/plain", strings.NewReader("new item"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	get(client, base+"/list")
	// Output:
	// GET /list #1 | tiercache; fwd=uri-miss; stored
	// GET /list #1 | tiercache; hit
	// GET /list #3 | tiercache; fwd=uri-miss; stored
}

// ExampleWithResponseModeFunc never stores server errors, whatever their
// Cache-Control says.
func ExampleWithResponseModeFunc() {
	client, base, stop := origin(httpcache.WithResponseModeFunc(func(req *http.Request, resp *http.Response) (httpcache.Mode, bool) {
		if resp.StatusCode >= 500 {
			return httpcache.ModeNoStore, true
		}
		return 0, false // the request's mode
	}))
	defer stop()
	get(client, base+"/error")
	get(client, base+"/error")
	// Output:
	// GET /error #1 | tiercache; fwd=uri-miss
	// GET /error #2 | tiercache; fwd=uri-miss
}

// ExampleWithStoreHook removes a field from what is stored: the first
// caller gets it from the origin, later ones never from the cache.
func ExampleWithStoreHook() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("X-Request-Id", "r-1")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := httpcache.New(newLRU(), httpcache.WithTransport(srv.Client().Transport),
		httpcache.WithStoreHook(func(req *http.Request, resp *tiercache.Response) {
			resp.Header.Del("X-Request-Id")
		}))
	defer tr.Close()
	for range 2 {
		resp, _ := (&http.Client{Transport: tr}).Get(srv.URL)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("X-Request-Id: %q\n", resp.Header.Get("X-Request-Id"))
	}
	// Output:
	// X-Request-Id: "r-1"
	// X-Request-Id: ""
}

// ExampleWithMetadata stores who fetched a response with it, and reads it
// back from the responses served from the cache.
func ExampleWithMetadata() {
	client, base, stop := origin(
		httpcache.WithMetadata(func(req *http.Request, resp *http.Response) map[string]string {
			return map[string]string{"fetched-by": req.Header.Get("X-User")}
		}),
		httpcache.WithResponseHook(func(req *http.Request, resp *http.Response) {
			fmt.Println("served from the cache, fetched by", httpcache.Metadata(resp)["fetched-by"])
		}))
	defer stop()
	for _, user := range []string{"alice", "bob"} {
		req, _ := http.NewRequest(http.MethodGet, base+"/m", nil)
		req.Header.Set("X-User", user)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Output:
	// served from the cache, fetched by alice
}

// ExampleWithRateLimiter lets at most two requests a run reach the origin;
// hits never count. (golang.org/x/time/rate's Limiter.Wait fits the same
// way.)
func ExampleWithRateLimiter() {
	var budget atomic.Int64
	budget.Store(2)
	client, base, stop := origin(httpcache.WithRateLimiter(httpcache.RateLimiterFunc(
		func(ctx context.Context, req *http.Request) error {
			if budget.Add(-1) < 0 {
				return errors.New("origin budget spent")
			}
			return nil
		})))
	defer stop()
	for _, path := range []string{"/a", "/a", "/a", "/b", "/c"} {
		resp, err := client.Get(base + path)
		if err != nil {
			fmt.Println(path, "error:", errors.Unwrap(errors.Unwrap(err)))
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(path, resp.Status)
	}
	// Output:
	// /a 200 OK
	// /a 200 OK
	// /a 200 OK
	// /b 200 OK
	// /c error: origin budget spent
}
