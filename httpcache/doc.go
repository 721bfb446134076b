// Package httpcache is an RFC 9111 cache over any tiercache.Manager (an
// LRU, a Layered stack over memcached, a compressed disk tier), for the
// client side as an http.RoundTripper and for the server side as handler
// middleware, with purging by tag and by URL.
//
//	client := &http.Client{Transport: httpcache.New(manager)}
//	handler := httpcache.NewMiddleware(manager).Wrap(app)
//
// Both run one rules engine: what follows says "the Transport", and holds
// for a Middleware with its wrapped handler as the origin (see Middleware
// for how the handler's response is captured).
//
// # What it does
//
// GET and HEAD requests are answered from the cache when a stored response
// is fresh and selected by the request (RFC 9111 §4), with an Age header;
// a HEAD reuses the stored GET. A GET with a single satisfiable byte Range
// (and a matching If-Range) gets a 206 of the stored response; several
// ranges, an unsatisfiable one or another unit go to the origin. Stale
// responses (and no-cache ones) are revalidated with If-None-Match /
// If-Modified-Since: a 304 updates the stored header and freshness of every
// stored variant it selects (§4.3.4), a full response replaces the entry,
// and a 200 to a HEAD request updates or invalidates the stored GET
// response (§4.3.5).
// Request directives max-age, max-stale, min-fresh, no-cache (and Pragma:
// no-cache), no-store, stale-if-error and only-if-cached (504 on a miss)
// are honoured, as are the response's stale-while-revalidate (served
// stale, revalidated in the background) and stale-if-error (served stale
// on a 5xx or a network error, for GET and HEAD); must-understand stores
// only understood status codes and then ignores no-store (§5.2.2.3);
// must-revalidate and, in a shared cache, proxy-revalidate and s-maxage
// never let a stale response through (504 when the origin cannot be
// reached). A non-error response to an unsafe method invalidates the
// target URI and the same-origin Location and Content-Location.
//
// The rules are tiercache.Policy's: the policy of every response is
// tiercache.NewPolicy (tiercache.NewTTLPolicyFor in ModeIgnoreRules),
// built with the time the request was sent and the response received, so
// the stored policy's KeepFor decides how long each tier keeps it; request
// directives are tiercache.ParseRequestDirectives. What is stored is the
// status, the header without hop-by-hop and proxy fields (§3.1; nor are
// they served from an entry another writer stored with them), the body and
// the URL without user information.
//
// # Shared caches
//
// WithShared(true) makes the Transport a shared cache: s-maxage,
// proxy-revalidate, private and the Authorization rules of §3.5 apply, a
// response that sets a cookie is stored only when it is public or has
// s-maxage and then without its Set-Cookie (never replayed to another
// client), and keys never hold URL credentials (DefaultKey).
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
// # Collapsing, background work and errors
//
// Concurrent misses on one key that accept a stored response go to the
// origin once: followers wait, at most WithCollapseTimeout, until the
// leader's response is stored and serve it; when it was not stored they go
// to the origin themselves. A stale-while-revalidate hit starts at most one
// background revalidation per key, at most WithMaxBackground in all (over
// the cap the stale response is served and no revalidation starts), each
// bounded by WithBackgroundTimeout and reading at most WithMaxBodySize;
// a panic in one is recovered and reported. A failing Manager never fails
// a request: a Get error is a miss, a Put or Delete error is skipped, and
// each is reported to the ErrorHook (wrapping ErrCache).
//
// # Cache-Status, Stats and logs
//
// Every response gets a Cache-Status member (RFC 9211) naming the cache
// (WithCacheName), e.g. "tiercache; hit; ttl=42",
// "tiercache; fwd=uri-miss; ttl=60" or
// "tiercache; fwd=stale; fwd-status=304; stored". The stored parameter is
// only ever true: a response stored before it is returned says so in its
// header; a streamed body is stored only once it has been read, so its
// header cannot know, and the final member, with stored when it was, is set
// in Response.Trailer["Cache-Status"] when the body ends (read trailers
// after the body, as net/http documents). WithCacheStatus(false) turns
// both off. Stats gives counters by outcome, bytes, stores, refusals and
// origin latency; WithLogger logs origin failures served stale, failed
// background revalidations and recovered panics.
//
// # Modes and hooks
//
// A Mode (WithMode, or per request WithModeFunc) changes the rules in the
// manner of the Rust http-cache crate: NoStore, Reload, NoCache,
// ForceCache, OnlyIfCached, IgnoreRules. The crate's other options are
// here too: WithResponseModeFunc overrides the mode for one response,
// WithCacheBust deletes the keys a request makes stale, WithStoreHook
// modifies a response before it is stored (WithResponseHook one served
// from the cache), WithMetadata stores user key/values with an entry
// (Metadata reads them back), and WithRateLimiter is consulted before
// every request to the origin.
//
// # Purging
//
// With WithPurge, responses carry tags (Surrogate-Key, Cache-Tag;
// WithTagHeaders), which are stripped from what callers receive, and
// PurgeTag and PurgeURL make every entry with a tag, or every variant of a
// URL, unusable at once in every tier. Each tag (and each of 1024 URL
// buckets) has a generation kept in the purge store (the authority of a
// Layered, or WithPurgeStore); a purge writes a new one (one Put, whatever
// the number of entries), each stored response records the generations it
// was stored under, and a lookup serves it only while they are current,
// checked against this process's copies, which are read again after
// WithPurgeMaxAge. The guarantee, once PurgeTag or PurgeURL returned nil
// at time t:
//   - the process that purged never serves a purged entry again;
//   - no other process sharing the purge store serves one after t plus the
//     max age (default 1 s; measured on each process's own monotonic
//     clock), nor, with WithBus, after it has received the purge message;
//   - a response whose request was sent before the purge is not stored
//     (Stats.Refusals.Purged) when its process knows of the purge by then
//     (by the purger's clock when that process sees the tag for the first
//     time), and is unusable at its next check otherwise.
//
// A lost generation (evicted, expired) gets a new one, and one that cannot
// be read makes its entries misses: neither is ever taken as current. A
// hit costs a lock-free table lookup per generation (27 ns for three) and
// at most one small read of the purge store per tag per max age.
// PurgeHandler serves PURGE requests behind a caller's authorization.
package httpcache
