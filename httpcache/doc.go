// Package httpcache is an RFC 9111 caching http.RoundTripper over any
// tiercache.Manager: an LRU, a Layered stack over memcached, a compressed
// disk tier.
//
//	client := &http.Client{Transport: httpcache.New(manager)}
//
// # What it does
//
// GET and HEAD requests are answered from the cache when a stored response
// is fresh and selected by the request (RFC 9111 §4), with an Age header;
// a HEAD reuses the stored GET. Stale responses (and no-cache ones) are
// revalidated with If-None-Match / If-Modified-Since: a 304 updates the
// stored header and freshness of every stored variant it selects (§4.3.4),
// a full response replaces the entry, and a 200 to a HEAD request updates
// or invalidates the stored GET response (§4.3.5).
// Request directives max-age, max-stale, min-fresh, no-cache (and Pragma:
// no-cache), no-store and only-if-cached (504 on a miss) are honoured, as
// are the response's stale-while-revalidate (served stale, revalidated in
// the background, one revalidation per key at a time) and stale-if-error
// (served stale on a 5xx or a network error; a request's stale-if-error
// too); must-understand stores only understood status codes and then
// ignores no-store (§5.2.2.3); must-revalidate and, in a
// shared cache, proxy-revalidate and s-maxage never let a stale response
// through. A non-error response to an unsafe method invalidates the target
// URI and the same-origin Location and Content-Location.
//
// The policy of every response is tiercache.NewPolicy, built with the time
// the request was sent and the response received, so the stored policy's
// KeepFor decides how long each tier keeps it. What is stored is the
// status, the header without hop-by-hop and proxy fields (§3.1), the body
// and the URL.
//
// # Bodies
//
// A response from the origin is streamed to the caller while a copy is
// kept; it is stored when the caller has read it completely and it is
// within WithMaxBodySize. A body the caller abandons, or that fails midway,
// is never stored. The store runs on the goroutine of the final Read (or
// Close). A cached body is served by a bytes.Reader over the stored bytes,
// without a copy; every hit gets its own *http.Response and header map.
//
// # Keys and variants
//
// The primary key of a request is KeyFunc(req) (DefaultKey: method and
// URL); a HEAD request uses its GET's key. A response with Vary is stored
// under a variant key derived from the primary key, and the primary key
// holds a small index entry naming the Vary fields, so that any number of
// variants coexist and one Delete of the primary key invalidates them all.
// See the comment on variants.go's indexField for the layout.
//
// # Collapsing and errors
//
// Concurrent misses on one key that accept a stored response go to the
// origin once: followers wait, at most WithCollapseTimeout, until the
// leader's response is stored and serve it; when it was not stored they go
// to the origin themselves. A failing Manager never fails a request: a Get
// error is a miss, a Put or Delete error is skipped, and each is reported
// to the ErrorHook (wrapping ErrCache).
//
// # Cache-Status
//
// Every response gets a Cache-Status member (RFC 9211) naming the cache
// (WithCacheName), e.g. "tiercache; hit; ttl=42",
// "tiercache; fwd=uri-miss; stored; ttl=60" (stored means: stored once the
// body has been read) or "tiercache; fwd=stale; fwd-status=304; stored".
// WithCacheStatus(false) turns it off.
//
// # Modes
//
// A Mode (WithMode, or per request WithModeFunc) changes the rules in the
// manner of the Rust http-cache crate: NoStore, Reload, NoCache,
// ForceCache, OnlyIfCached, IgnoreRules.
package httpcache
