package tiercache_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// ExampleNewTTLPolicyFor stores a response for a fixed time whatever its
// directives say, while still recording what it varies on, so that a
// request with other header values never selects it.
func ExampleNewTTLPolicyFor() {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Set("Accept-Language", "en")
	resp := &http.Response{StatusCode: 200, Header: http.Header{
		"Cache-Control": {"no-store"},
		"Vary":          {"Accept-Language"},
	}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := tiercache.NewTTLPolicyFor(10*time.Minute, req, resp, tiercache.WithNow(now))
	fmt.Println(p.Storable(), p.TTL(now))
	fmt.Println(p.VaryMatches(http.Header{"Accept-Language": {"en"}}), p.VaryMatches(http.Header{"Accept-Language": {"fr"}}))
	// Output:
	// true 10m0s
	// true false
}

// ExampleWithMustUnderstand builds the policy of a response that asks to be
// stored only by caches that understand its status code.
func ExampleWithMustUnderstand() {
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Cache-Control": {"must-understand, no-store, max-age=60"}}}
	fmt.Println(tiercache.NewPolicy(nil, resp).Storable())
	fmt.Println(tiercache.NewPolicy(nil, resp, tiercache.WithMustUnderstand(true)).Storable())
	// Output:
	// false
	// true
}
