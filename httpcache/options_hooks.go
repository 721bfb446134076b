package httpcache

import (
	"context"
	"net/http"

	"github.com/tiercache/tiercache"
)

// The options of the Rust http-cache crate beyond modes and keys: cache
// bust, a response mode override, a store hook, metadata and an origin
// rate limiter. Each applies to the Transport and the Middleware alike.

// CacheBust returns the keys to delete because of req (for example, the GET
// keys a POST changes). key is req's own key as the KeyFunc gives it (with
// req's method; the GET key for a HEAD). Keys are deleted through the
// Manager, so they reach what a Delete reaches (every tier of a Layered,
// and other processes' upper tiers through its bus); PurgeURL also reaches
// other processes without a bus.
type CacheBust func(req *http.Request, key string) []string

// ResponseModeFunc may override the mode for one response from the origin,
// given the request and the response header (the body has not been read).
// It returns ok false to keep the request's mode. What the override does:
//   - ModeNoStore: the response is not stored (Stats.Refusals.NoStore);
//   - ModeIgnoreRules, ModeForceCache: a 200 response is stored whatever
//     its directives say, as ModeIgnoreRules stores it (WithMaxTTL);
//   - any other mode: the response is stored as RFC 9111 allows.
type ResponseModeFunc func(req *http.Request, resp *http.Response) (mode Mode, ok bool)

// StoreHook may modify a response just before it is written to the
// Manager: a new response from the origin, or a stored one freshened by a
// 304 or a HEAD response. resp's Header is the hook's to change; resp.Body
// may be shared with the cache, so replace it rather than modify it in
// place (a Content-Length field then follows the new length). The caching
// policy, the Vary fields and the purge tags were taken from the response
// as received, before the hook.
type StoreHook func(req *http.Request, resp *tiercache.Response)

// MetadataFunc returns user key/values to store with a response from the
// origin, given the request and the response header (the body has not been
// read); nil stores none. The metadata is kept with the entry in every tier
// and codec (tiercache.Policy.WithMetadata), kept when a 304 freshens it,
// and returned with the responses served from it (Metadata).
type MetadataFunc func(req *http.Request, resp *http.Response) map[string]string

// RateLimiter is consulted before every request to the origin (misses,
// validations, background revalidations, requests the cache does not
// serve); responses served from the cache never consult it. Wait blocks
// until req may be sent, or returns an error, and the request is then not
// sent: the Transport answers as for an origin it cannot reach (a stale
// response within stale-if-error, else the error, wrapped), and the
// Middleware with 503 Service Unavailable. Implementations must be safe for
// concurrent use; golang.org/x/time/rate fits through RateLimiterFunc.
type RateLimiter interface {
	Wait(ctx context.Context, req *http.Request) error
}

// RateLimiterFunc adapts a function to RateLimiter.
type RateLimiterFunc func(ctx context.Context, req *http.Request) error

// Wait calls f(ctx, req).
func (f RateLimiterFunc) Wait(ctx context.Context, req *http.Request) error { return f(ctx, req) }

// WithCacheBust sets the function returning the keys each request busts.
// For safe methods (GET, HEAD, OPTIONS, TRACE) they are deleted before the
// request is looked up; for other methods once the origin has answered
// with a non-error status (2xx, 3xx), as RFC 9111 §4.4 invalidation is, so
// that a concurrent read cannot store the old value again in between. f
// must be safe for concurrent use; nil removes it.
func WithCacheBust(f CacheBust) Option { return func(o *options) { o.bust = f } }

// WithResponseModeFunc sets the function that may override the mode for
// each response from the origin (see ResponseModeFunc). nil removes it.
func WithResponseModeFunc(f ResponseModeFunc) Option { return func(o *options) { o.respMode = f } }

// WithStoreHook sets the function that may modify each response before it
// is stored (see StoreHook). nil removes it.
func WithStoreHook(f StoreHook) Option { return func(o *options) { o.onStore = f } }

// WithMetadata sets the function computing the metadata stored with each
// response from the origin (see MetadataFunc). nil removes it.
func WithMetadata(f MetadataFunc) Option { return func(o *options) { o.metadata = f } }

// WithRateLimiter sets the limiter consulted before every request to the
// origin (see RateLimiter). nil removes it.
func WithRateLimiter(l RateLimiter) Option { return func(o *options) { o.limiter = l } }

// Metadata returns the metadata stored with the entry resp was served from
// (a hit, a stale or revalidated response; see WithMetadata), or of the
// response being stored when resp comes from the origin, in a new map the
// caller owns; nil when there is none. Call it before replacing resp.Body:
// the metadata travels with the body the Transport returns.
func Metadata(resp *http.Response) map[string]string {
	if resp == nil {
		return nil
	}
	switch b := resp.Body.(type) {
	case *storedBody:
		if b.pol != nil {
			return b.pol.Metadata()
		}
	case *captureBody:
		if b.pol != nil {
			return b.pol.Metadata()
		}
	}
	return nil
}
