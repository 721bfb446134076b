package tiercache

import "time"

// Defaults of the policy options.
const (
	DefaultMaxTTL            = 365 * 24 * time.Hour
	DefaultHeuristicFraction = 0.1
	DefaultHeuristicMax      = 24 * time.Hour
	DefaultRevalidationGrace = time.Hour
)

// PolicyOption configures NewPolicy, NewTTLPolicy and NewTTLPolicyFor.
type PolicyOption func(*policyConfig)

type policyConfig struct {
	shared         bool
	mustUnderstand bool
	now            time.Time // response time
	reqTime        time.Time
	maxTTL         time.Duration
	heurFraction   float64
	heurMax        time.Duration
	grace          time.Duration
	staleGrace     time.Duration
}

// WithShared makes the policy follow the rules of a shared cache (RFC 9111
// §3.5, s-maxage, private, proxy-revalidate), and refuses responses that set
// a cookie (Set-Cookie) unless they are public or carry s-maxage, so that
// one client's cookie is never replayed to another. The default is a
// private cache.
func WithShared(shared bool) PolicyOption { return func(c *policyConfig) { c.shared = shared } }

// WithMustUnderstand makes the policy honour the must-understand response
// directive (RFC 9111 §5.2.2.3) as a cache that implements the caching
// rules of every final status code of RFC 9110 except 206 and 304: such a
// response is judged without its no-store directive, and a response with
// any other status is not storable. Without it (the default) the policy
// acts as a cache that does not implement must-understand: no-store
// applies as usual, which is always safe.
func WithMustUnderstand(on bool) PolicyOption {
	return func(c *policyConfig) { c.mustUnderstand = on }
}

// WithNow sets the time the response was received (default time.Now()). It
// also sets the request time unless WithRequestTime is given. The zero
// time.Time means "not set" (time.Now()). A Policy keeps its times as Unix
// nanoseconds, so clocks must lie between the years 1678 and 2262; the
// backends' own deadlines (lru, disk) accept any clock, the zero time
// included.
func WithNow(t time.Time) PolicyOption { return func(c *policyConfig) { c.now = t } }

// WithRequestTime sets the time the request was sent, used to correct the
// response's Age for network delay (RFC 9111 §4.2.3). Default: the response time.
func WithRequestTime(t time.Time) PolicyOption { return func(c *policyConfig) { c.reqTime = t } }

// WithMaxTTL caps the freshness lifetime and each stale window (default
// DefaultMaxTTL, one year). Values <= 0 keep the default.
func WithMaxTTL(d time.Duration) PolicyOption {
	return func(c *policyConfig) {
		if d > 0 {
			c.maxTTL = d
		}
	}
}

// WithHeuristic sets the heuristic freshness for responses with Last-Modified
// and no explicit expiry: fraction of the time since Last-Modified, at most
// limit. Defaults: 0.1 and 24h. fraction is clamped to [0, 1].
func WithHeuristic(fraction float64, limit time.Duration) PolicyOption {
	return func(c *policyConfig) {
		c.heurFraction = min(max(fraction, 0), 1)
		c.heurMax = max(limit, 0)
	}
}

// WithRevalidationGrace sets how long past its stale windows a response with
// validators (ETag, Last-Modified) is kept so that it can be revalidated
// cheaply (default one hour). 0 disables it.
func WithRevalidationGrace(d time.Duration) PolicyOption {
	return func(c *policyConfig) { c.grace = max(d, 0) }
}

// WithStaleGrace sets how long past its stale windows a response without
// validators is kept, so that a request that accepts a stale response
// (max-stale, a request stale-if-error) or a HEAD response that freshens it
// can still find it. The default, 0, drops such a response as soon as it is
// stale, since revalidating it costs a full fetch anyway; a grace keeps
// every such entry that much longer in every tier (memory for reach). It
// does not apply to responses that may never be served stale (no-cache,
// must-revalidate).
func WithStaleGrace(d time.Duration) PolicyOption {
	return func(c *policyConfig) { c.staleGrace = max(d, 0) }
}

func newPolicyConfig(opts []PolicyOption) policyConfig {
	c := policyConfig{
		maxTTL:       DefaultMaxTTL,
		heurFraction: DefaultHeuristicFraction,
		heurMax:      DefaultHeuristicMax,
		grace:        DefaultRevalidationGrace,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	if c.reqTime.IsZero() || c.reqTime.After(c.now) {
		c.reqTime = c.now
	}
	return c
}
