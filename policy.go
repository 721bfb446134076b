package tiercache

import (
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"
)

// Policy is the caching policy of one stored response: whether it may be
// stored, how long it is fresh (RFC 9111 §4.2), how long a tier should keep
// it, and which request header values it varies on.
//
// A Policy is immutable once built and safe for concurrent use. Its answers
// depend only on its fields and the time passed in, so a Policy decoded from
// its wire form (MarshalBinary, MarshalJSON) answers exactly like the
// original. A Policy is never infinite: lifetimes are capped (WithMaxTTL).
type Policy struct {
	flags    uint16
	reason   string        // why the response may not be stored; "" when storable
	born     int64         // Unix nanoseconds at which the response's age was 0
	lifetime time.Duration // freshness lifetime, capped, >= 0
	swr      time.Duration // stale-while-revalidate window
	sie      time.Duration // stale-if-error window
	grace    time.Duration // revalidation grace, 0 without validators
	vary     []VaryField   // sorted by Name
	// keepUntil, when not 0, caps KeepFor at this Unix-nanosecond time. It
	// is set on the copies a Layered with a bus writes into its upper tiers
	// (layered_bus.go) and is not part of the wire form.
	keepUntil int64
}

// VaryField is one request header a response varies on and the normalised
// value it had in the request that produced the response.
type VaryField struct {
	Name  string // canonical header name
	Value string // normalised: comma-separated, whitespace around elements removed
}

// Policy flags; the bit values are part of the wire form.
const (
	flagShared         uint16 = 1 << iota // built for a shared cache
	flagNoCache                           // response no-cache: revalidate before each reuse
	flagMustRevalidate                    // must-revalidate (or proxy-revalidate / s-maxage when shared)
	flagImmutable                         // immutable
	flagValidators                        // has ETag or Last-Modified
	flagHeuristic                         // lifetime is heuristic (Last-Modified)
	flagKnown                             // mask end
)

// Defaults of the policy options.
const (
	DefaultMaxTTL            = 365 * 24 * time.Hour
	DefaultHeuristicFraction = 0.1
	DefaultHeuristicMax      = 24 * time.Hour
	DefaultRevalidationGrace = time.Hour
	maxDeltaSeconds          = 1<<31 - 1
	reasonNoResponse         = "NoResponse"
	reasonVaryStar           = "ResponseVaryStar"
	reasonStatusNotCacheable = "ResponseStatusNotCacheable"
)

// PolicyOption configures NewPolicy and NewTTLPolicy.
type PolicyOption func(*policyConfig)

type policyConfig struct {
	shared       bool
	now          time.Time // response time
	reqTime      time.Time
	maxTTL       time.Duration
	heurFraction float64
	heurMax      time.Duration
	grace        time.Duration
}

// WithShared makes the policy follow the rules of a shared cache (RFC 9111
// §3.5, s-maxage, private, proxy-revalidate). The default is a private cache.
func WithShared(shared bool) PolicyOption { return func(c *policyConfig) { c.shared = shared } }

// WithNow sets the time the response was received (default time.Now()). It
// also sets the request time unless WithRequestTime is given.
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

// NewTTLPolicy returns a storable policy that is fresh for ttl from now (or
// WithNow), for entries that do not come from HTTP. ttl is clamped to
// [0, WithMaxTTL].
func NewTTLPolicy(ttl time.Duration, opts ...PolicyOption) *Policy {
	c := newPolicyConfig(opts)
	p := &Policy{born: c.now.UnixNano(), lifetime: min(max(ttl, 0), c.maxTTL)}
	if c.shared {
		p.flags |= flagShared
	}
	return p
}

// NewPolicy computes the caching policy of resp, the response to req, under
// RFC 9111. req may be nil (a GET with no headers is assumed). It never fails:
// a malformed directive or date is ignored on its own and the rest applies.
// It costs a parse of the Cache-Control, Date, Age, Expires, Last-Modified
// and Vary fields and a few small allocations.
func NewPolicy(req *http.Request, resp *http.Response, opts ...PolicyOption) *Policy {
	c := newPolicyConfig(opts)
	p := &Policy{born: c.now.UnixNano()}
	if c.shared {
		p.flags |= flagShared
	}
	if resp == nil {
		p.reason = reasonNoResponse
		return p
	}
	h := resp.Header
	if h == nil {
		h = http.Header{}
	}
	var reqHeader http.Header
	method := http.MethodGet
	if req != nil {
		reqHeader = req.Header
		if req.Method != "" {
			method = req.Method
		}
	}
	rd := parseResponseDirectives(h.Values("Cache-Control"))
	reqd := parseRequestDirectives(reqHeader.Values("Cache-Control"))
	p.reason = storableReason(c, method, resp.StatusCode, reqHeader, h, rd, reqd)
	p.vary = varyFields(h, reqHeader)
	if p.vary == nil && hasVaryStar(h) {
		p.reason = reasonVaryStar
	}
	p.setFlags(c, h, rd)
	p.setTimes(c, h, rd, resp.StatusCode)
	return p
}

func (p *Policy) setFlags(c policyConfig, h http.Header, rd *cacheobject.ResponseCacheDirectives) {
	if rd.NoCachePresent {
		p.flags |= flagNoCache
	}
	if rd.MustRevalidate || (c.shared && (rd.ProxyRevalidate || rd.SMaxAge != -1)) {
		p.flags |= flagMustRevalidate
	}
	if rd.Immutable {
		p.flags |= flagImmutable
	}
	if h.Get("ETag") != "" || validDate(h.Get("Last-Modified")) {
		p.flags |= flagValidators
	}
}

func (p *Policy) setTimes(c policyConfig, h http.Header, rd *cacheobject.ResponseCacheDirectives, status int) {
	date := c.now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	// RFC 9111 §4.2.3: corrected_initial_age.
	apparent := max(c.now.Sub(date), 0)
	corrected := ageSeconds(h.Get("Age")) + c.now.Sub(c.reqTime)
	p.born = c.now.Add(-max(apparent, corrected)).UnixNano()

	lifetime, heuristic := freshnessLifetime(c, h, rd, status, date)
	p.lifetime = min(max(lifetime, 0), c.maxTTL)
	if heuristic {
		p.flags |= flagHeuristic
	}
	if p.flags&flagNoCache != 0 {
		p.lifetime = 0
	}
	if rd.StaleWhileRevalidate > 0 {
		p.swr = min(time.Duration(rd.StaleWhileRevalidate)*time.Second, c.maxTTL)
	}
	if rd.StaleIfError > 0 {
		p.sie = min(time.Duration(rd.StaleIfError)*time.Second, c.maxTTL)
	}
	if p.flags&flagValidators != 0 {
		p.grace = min(c.grace, c.maxTTL)
	}
}

// freshnessLifetime implements RFC 9111 §4.2.1 and the heuristic of §4.2.2.
func freshnessLifetime(c policyConfig, h http.Header, rd *cacheobject.ResponseCacheDirectives, status int, date time.Time) (time.Duration, bool) {
	switch {
	case c.shared && rd.SMaxAge != -1:
		return time.Duration(rd.SMaxAge) * time.Second, false
	case rd.MaxAge != -1:
		return time.Duration(rd.MaxAge) * time.Second, false
	case len(h.Values("Expires")) > 0:
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0, false // an invalid Expires means already expired (§5.3)
		}
		return exp.Sub(date), false
	}
	lm, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil || !heuristicStatus(status) {
		return 0, false
	}
	since := date.Sub(lm)
	if since <= 0 {
		return 0, false
	}
	return min(time.Duration(float64(since)*c.heurFraction), c.heurMax), true
}

// storableReason returns why the response may not be stored, or "".
// It uses cachecontrol's reasons and corrects the ones it gets wrong.
func storableReason(c policyConfig, method string, status int, reqHeader, h http.Header,
	rd *cacheobject.ResponseCacheDirectives, reqd *cacheobject.RequestCacheDirectives) string {
	if status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified {
		return reasonStatusNotCacheable
	}
	if reqHeader == nil {
		reqHeader = http.Header{}
	}
	obj := &cacheobject.Object{
		CacheIsPrivate: !c.shared,
		RespDirectives: rd,
		RespHeaders:    h,
		RespStatusCode: status,
		ReqDirectives:  reqd,
		ReqHeaders:     reqHeader,
		ReqMethod:      method,
		NowUTC:         c.now.UTC(),
	}
	var rv cacheobject.ObjectResults
	cacheobject.CachableObject(obj, &rv)
	for _, r := range rv.OutReasons {
		switch {
		case r == cacheobject.ReasonRequestAuthorizationHeader && !c.shared:
			// §3.5 restricts shared caches only.
		case r == cacheobject.ReasonResponseUncachableByDefault && heuristicStatus(status):
			// cachecontrol misses 308 (RFC 9110 §15.4.9).
		default:
			return strings.TrimPrefix(r.String(), "Reason")
		}
	}
	return ""
}

// heuristicStatus reports whether status is cacheable by default (RFC 9110 §15.1).
func heuristicStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// Storable reports whether the response may be stored at all: its method,
// status, no-store, private (shared caches), Authorization (shared caches)
// and Vary: * allow it.
func (p *Policy) Storable() bool { return p != nil && p.reason == "" }

// Reason names why the response may not be stored, e.g. "ResponseNoStore"
// or "RequestAuthorizationHeader" (cachecontrol's reasons without their
// "Reason" prefix); it is "" when Storable.
func (p *Policy) Reason() string {
	if p == nil {
		return reasonNoResponse
	}
	return p.reason
}

// TTL returns the remaining freshness lifetime at now; it is <= 0 when the
// response is stale (or not storable). It does not allocate.
func (p *Policy) TTL(now time.Time) time.Duration {
	if !p.Storable() {
		return 0
	}
	return time.Duration(p.born + int64(p.lifetime) - now.UnixNano())
}

// KeepFor returns how long a tier should retain the response from now: TTL
// plus the stale-while-revalidate and stale-if-error windows (unless it must
// be revalidated once stale) plus the revalidation grace when it has
// validators. A value <= 0 means the response should not be kept. The
// copies a Layered with a bus writes into its upper tiers also stop at the
// bus's max age (WithBusMaxAge).
func (p *Policy) KeepFor(now time.Time) time.Duration {
	if !p.Storable() {
		return 0
	}
	keep := p.TTL(now) + p.staleExtra()
	if p.keepUntil != 0 {
		keep = min(keep, time.Duration(p.keepUntil-now.UnixNano()))
	}
	return keep
}

func (p *Policy) staleExtra() time.Duration {
	extra := p.grace
	if p.flags&flagMustRevalidate == 0 {
		extra += p.swr + p.sie
	}
	return extra
}

// Age returns the response's current age at now (RFC 9111 §4.2.3).
func (p *Policy) Age(now time.Time) time.Duration {
	return max(time.Duration(now.UnixNano()-p.born), 0)
}

// Lifetime returns the freshness lifetime (RFC 9111 §4.2.1), capped.
func (p *Policy) Lifetime() time.Duration { return p.lifetime }

// Shared reports whether the policy was built for a shared cache.
func (p *Policy) Shared() bool { return p.flags&flagShared != 0 }

// NoCache reports a response no-cache directive: every reuse needs revalidation.
func (p *Policy) NoCache() bool { return p.flags&flagNoCache != 0 }

// MustRevalidate reports that a stale response must not be served without
// revalidation (must-revalidate, or proxy-revalidate or s-maxage when shared).
func (p *Policy) MustRevalidate() bool { return p.flags&flagMustRevalidate != 0 }

// Immutable reports the immutable directive.
func (p *Policy) Immutable() bool { return p.flags&flagImmutable != 0 }

// HasValidators reports whether the response has an ETag or Last-Modified.
func (p *Policy) HasValidators() bool { return p.flags&flagValidators != 0 }

// Heuristic reports whether the lifetime is heuristic (from Last-Modified).
func (p *Policy) Heuristic() bool { return p.flags&flagHeuristic != 0 }

// StaleWhileRevalidate returns the stale-while-revalidate window (0 if none).
func (p *Policy) StaleWhileRevalidate() time.Duration { return p.swr }

// StaleIfError returns the stale-if-error window (0 if none).
func (p *Policy) StaleIfError() time.Duration { return p.sie }

// Vary returns the request header fields the response varies on and their
// normalised values, sorted by name. The slice is shared: do not modify it.
func (p *Policy) Vary() []VaryField { return p.vary }

// VaryMatches reports whether a request with header h selects this response:
// every varied field has the same normalised value (absent equals absent).
func (p *Policy) VaryMatches(h http.Header) bool {
	for _, f := range p.vary {
		if NormalizeFieldValues(h.Values(f.Name)) != f.Value {
			return false
		}
	}
	return true
}
