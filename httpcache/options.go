package httpcache

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// Defaults of the options.
const (
	// DefaultCacheName is the name the Transport gives itself in the
	// Cache-Status header (WithCacheName).
	DefaultCacheName = "tiercache"
	// DefaultMaxBodySize is the largest body the Transport stores, 16 MiB
	// (WithMaxBodySize).
	DefaultMaxBodySize = 16 << 20
	// DefaultCollapseTimeout bounds how long a request waits for another
	// request's response to the same key (WithCollapseTimeout).
	DefaultCollapseTimeout = 5 * time.Second
	// DefaultIgnoreRulesTTL is how long ModeIgnoreRules keeps a response
	// when no WithMaxTTL is given.
	DefaultIgnoreRulesTTL = 24 * time.Hour
	// DefaultBackgroundTimeout bounds each background revalidation, from
	// sending the request to the end of its body (WithBackgroundTimeout).
	DefaultBackgroundTimeout = 30 * time.Second
	// DefaultMaxBackground is how many background revalidations may run at
	// once (WithMaxBackground).
	DefaultMaxBackground = 64
)

// Option configures New.
type Option func(*options)

// KeyFunc returns the primary cache key of a request. The Transport calls it
// with GET requests only: a HEAD request is looked up under the key of the
// same request with method GET, so that it reuses stored GET responses.
// Variant keys (Vary) are derived from the primary key by the Transport.
type KeyFunc func(req *http.Request) string

// ErrorHook receives the errors the Transport recovered from: failed cache
// operations (Get, Put, Delete), where err wraps ErrCache and the Manager's
// error, and panics in background revalidations, where err wraps
// tiercache.ErrPanic and names the key (quoted, long keys shortened).
type ErrorHook func(req *http.Request, err error)

// ResponseHook may modify a response served from the cache (a hit, a
// revalidated or a stale response) before the Transport returns it. resp's
// header is the caller's own copy.
type ResponseHook func(req *http.Request, resp *http.Response)

type options struct {
	shared          bool
	upstream        http.RoundTripper
	now             func() time.Time
	name            string
	cacheStatus     bool
	key             KeyFunc
	mode            Mode
	modeFunc        func(*http.Request) Mode
	maxTTL          time.Duration
	maxBody         int64
	onError         ErrorHook
	onCached        ResponseHook
	collapse        bool
	collapseTimeout time.Duration
	staleGrace      time.Duration
	bgTimeout       time.Duration
	maxBackground   int
	logger          *slog.Logger

	bust     CacheBust
	respMode ResponseModeFunc
	onStore  StoreHook
	metadata MetadataFunc
	limiter  RateLimiter

	purge       bool
	tagHeaders  []string // canonical; nil: DefaultTagHeaders
	keepTags    bool
	purgeStore  tiercache.Manager
	purgeMaxAge time.Duration
	bus         tiercache.Bus
}

func newOptions(opts []Option) options {
	o := options{
		upstream:        http.DefaultTransport,
		now:             time.Now,
		name:            DefaultCacheName,
		cacheStatus:     true,
		key:             DefaultKey,
		maxBody:         DefaultMaxBodySize,
		collapse:        true,
		collapseTimeout: DefaultCollapseTimeout,
		bgTimeout:       DefaultBackgroundTimeout,
		maxBackground:   DefaultMaxBackground,
	}
	for _, f := range opts {
		f(&o)
	}
	if o.tagHeaders == nil {
		o.tagHeaders = DefaultTagHeaders()
	}
	return o
}

// WithShared makes the Transport a shared cache (RFC 9111 §3.5: s-maxage,
// proxy-revalidate, private and Authorization rules). The default is a
// private cache, as for a browser or a single client.
func WithShared(shared bool) Option { return func(o *options) { o.shared = shared } }

// WithTransport sets the upstream RoundTripper (default
// http.DefaultTransport). nil keeps the default. A Middleware ignores it:
// its origin is the handler it wraps.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) {
		if rt != nil {
			o.upstream = rt
		}
	}
}

// WithClock replaces time.Now (for tests with a fixed clock). nil keeps
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithCacheName sets the cache's name in the Cache-Status header (default
// DefaultCacheName). An empty name keeps the default.
func WithCacheName(name string) Option {
	return func(o *options) {
		if name != "" {
			o.name = name
		}
	}
}

// WithCacheStatus turns the Cache-Status header (RFC 9211) on or off
// (default on).
func WithCacheStatus(on bool) Option { return func(o *options) { o.cacheStatus = on } }

// WithKeyFunc sets the function computing a request's primary cache key
// (default DefaultKey). nil keeps the default.
func WithKeyFunc(f KeyFunc) Option {
	return func(o *options) {
		if f != nil {
			o.key = f
		}
	}
}

// WithMode sets the Transport's cache mode (default ModeDefault).
func WithMode(m Mode) Option { return func(o *options) { o.mode = m } }

// WithModeFunc chooses the mode of each request; its answer replaces the
// mode of WithMode. f must be safe for concurrent use. nil removes it.
func WithModeFunc(f func(req *http.Request) Mode) Option {
	return func(o *options) { o.modeFunc = f }
}

// WithMaxTTL caps the freshness lifetime and stale windows of stored
// responses (default: tiercache.DefaultMaxTTL; DefaultIgnoreRulesTTL for
// ModeIgnoreRules). Values <= 0 keep the default.
func WithMaxTTL(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.maxTTL = d
		}
	}
}

// WithMaxBodySize sets the largest body stored, in bytes (default
// DefaultMaxBodySize). Larger responses are streamed to the caller and not
// stored. Values <= 0 keep the default.
func WithMaxBodySize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBody = n
		}
	}
}

// WithErrorHook sets the function told about cache errors the Transport
// recovered from (it then behaves as on a miss or skips the store). It is
// called synchronously and must be safe for concurrent use.
func WithErrorHook(f ErrorHook) Option { return func(o *options) { o.onError = f } }

// WithResponseHook sets a function that may modify each response served
// from the cache before it is returned. It must be safe for concurrent use.
func WithResponseHook(f ResponseHook) Option { return func(o *options) { o.onCached = f } }

// WithCollapse turns request collapsing on or off (default on): concurrent
// misses on one key send one request to the origin while the others wait
// for its stored response.
func WithCollapse(on bool) Option { return func(o *options) { o.collapse = on } }

// WithCollapseTimeout bounds how long a collapsed request waits for the
// leading request (default DefaultCollapseTimeout); it then goes to the
// origin itself. Values <= 0 keep the default.
func WithCollapseTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.collapseTimeout = d
		}
	}
}

// WithStaleGrace keeps responses without validators (no ETag or
// Last-Modified) for d past their freshness and stale windows, so that
// requests that accept a stale response (max-stale, a request
// stale-if-error, ModeForceCache) and HEAD responses that freshen them
// (RFC 9111 §4.3.5) still find them (tiercache.WithStaleGrace). The
// default, 0, drops them as soon as they are stale, since they cannot be
// revalidated cheaply: every tier holds each such entry d longer, so size
// the tiers for it. Responses with validators keep their revalidation
// grace whatever d is.
func WithStaleGrace(d time.Duration) Option {
	return func(o *options) { o.staleGrace = max(d, 0) }
}

// WithBackgroundTimeout bounds each background revalidation
// (stale-while-revalidate), from sending the request to reading the end of
// its body (default DefaultBackgroundTimeout). A revalidation that runs
// out of time stores nothing. Values <= 0 keep the default.
func WithBackgroundTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.bgTimeout = d
		}
	}
}

// WithMaxBackground caps the background revalidations running at once
// across all keys (default DefaultMaxBackground; at most one per key
// always). A stale-while-revalidate hit over the cap is served stale and
// starts no revalidation (Stats.RefreshesSkipped). Values <= 0 keep the
// default.
func WithMaxBackground(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBackground = n
		}
	}
}

// WithLogger logs, at Warn and at most once per 10 s per origin host and
// kind, origin failures answered with a stale response (stale-if-error),
// failed background revalidations and recovered panics. nil (the default)
// logs nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }
