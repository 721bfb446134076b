package tiercache_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// NewPolicy reads the caching rules of a response. Fixed clocks (WithNow)
// make the answers reproducible.
func ExampleNewPolicy() {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/page", nil)
	resp := &http.Response{StatusCode: 200, Header: http.Header{
		"Cache-Control": {"max-age=300, stale-while-revalidate=60"},
		"Age":           {"100"},
	}}
	pol := tiercache.NewPolicy(req, resp, tiercache.WithNow(now))
	fmt.Println("storable:", pol.Storable())
	fmt.Println("fresh for:", pol.TTL(now))
	fmt.Println("keep for:", pol.KeepFor(now))
	fmt.Println("stale after 5m:", pol.TTL(now.Add(5*time.Minute)) <= 0)
	// Output:
	// storable: true
	// fresh for: 3m20s
	// keep for: 4m20s
	// stale after 5m: true
}

// A shared cache must not store private responses.
func ExampleWithShared() {
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Cache-Control": {"private, max-age=60"}}}
	fmt.Println(tiercache.NewPolicy(nil, resp).Storable())
	shared := tiercache.NewPolicy(nil, resp, tiercache.WithShared(true))
	fmt.Println(shared.Storable(), shared.Reason())
	// Output:
	// true
	// false ResponsePrivate
}

// NewTTLPolicy serves values that do not come from HTTP.
func ExampleNewTTLPolicy() {
	now := time.Now()
	pol := tiercache.NewTTLPolicy(10*time.Minute, tiercache.WithNow(now))
	fmt.Println(pol.TTL(now), pol.KeepFor(now.Add(10*time.Minute)))
	// Output: 10m0s 0s
}

// VaryMatches selects the stored variant for a request.
func ExamplePolicy_VaryMatches() {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp := &http.Response{StatusCode: 200, Header: http.Header{
		"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"},
	}}
	pol := tiercache.NewPolicy(req, resp)
	fmt.Println(pol.VaryMatches(http.Header{"Accept-Encoding": {"gzip"}}))
	fmt.Println(pol.VaryMatches(http.Header{"Accept-Encoding": {"br"}}))
	// Output:
	// true
	// false
}
