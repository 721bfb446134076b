package tiercache

import (
	"net/http"
	"time"

	"github.com/tiercache/tiercache/internal/httpfield"
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
	grace    time.Duration // kept past the stale windows: revalidation or stale grace
	vary     []VaryField   // sorted by Name
	ext      []byte        // wire extension records, kept as read (see policy_wire.go)
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

// Limits and reasons of the policy.
const (
	maxDeltaSeconds          = 1<<31 - 1
	reasonNoResponse         = "NoResponse"
	reasonVaryStar           = "ResponseVaryStar"
	reasonStatusNotCacheable = "ResponseStatusNotCacheable"
	reasonNotUnderstood      = "ResponseStatusNotUnderstood"
	reasonSetCookie          = "ResponseSetCookie"
)

// NewTTLPolicy returns a storable policy that is fresh for ttl from now (or
// WithNow), for entries that do not come from HTTP. ttl is clamped to
// [0, WithMaxTTL].
func NewTTLPolicy(ttl time.Duration, opts ...PolicyOption) *Policy {
	c := newPolicyConfig(opts)
	return newTTLPolicy(c, ttl)
}

func newTTLPolicy(c policyConfig, ttl time.Duration) *Policy {
	p := &Policy{born: c.now.UnixNano(), lifetime: min(max(ttl, 0), c.maxTTL)}
	if c.shared {
		p.flags |= flagShared
	}
	return p
}

// NewTTLPolicyFor returns the policy of resp, the response to req, stored
// for ttl whatever its caching directives say (as httpcache's
// ModeIgnoreRules does): fresh for ttl from now (or WithNow), clamped to
// [0, WithMaxTTL], and recording the values req has for the fields resp's
// Vary names, so that VaryMatches selects it for the same requests only.
// A response with Vary: * is not storable: no request can select it. req
// may be nil (no header values). It allocates the policy and its Vary list.
func NewTTLPolicyFor(ttl time.Duration, req *http.Request, resp *http.Response, opts ...PolicyOption) *Policy {
	c := newPolicyConfig(opts)
	p := newTTLPolicy(c, ttl)
	if resp == nil {
		p.reason = reasonNoResponse
		return p
	}
	var star bool
	p.vary, star = varyFields(resp.Header, requestHeader(req))
	if star {
		p.reason = reasonVaryStar
	}
	return p
}

func requestHeader(req *http.Request) http.Header {
	if req == nil {
		return nil
	}
	return req.Header
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
	reqHeader := requestHeader(req)
	method := http.MethodGet
	if req != nil && req.Method != "" {
		method = req.Method
	}
	rd := parseResponseDirectives(h["Cache-Control"])
	reqd := parseRequestDirectives(reqHeader["Cache-Control"])
	p.reason = storableReason(c, method, resp.StatusCode, reqHeader, h, rd, &reqd)
	var star bool
	if p.vary, star = varyFields(h, reqHeader); star {
		p.reason = reasonVaryStar
	}
	p.setFlags(c, h, rd)
	p.setTimes(c, h, rd, resp.StatusCode)
	return p
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
		if !httpfield.EqualNormalized(h[f.Name], f.Value) {
			return false
		}
	}
	return true
}
