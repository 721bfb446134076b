package tiercache

import (
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"
)

// This file holds the rules NewPolicy applies to parsed directives:
// storability (RFC 9111 §3), flags, freshness (§4.2) and retention.

func (p *Policy) setFlags(c policyConfig, h http.Header, rd *responseDirectives) {
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

func (p *Policy) setTimes(c policyConfig, h http.Header, rd *responseDirectives, status int) {
	date := c.now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	// RFC 9111 §4.2.3: corrected_initial_age.
	apparent := max(c.now.Sub(date), 0)
	corrected := ageSeconds(h["Age"]) + c.now.Sub(c.reqTime)
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
	switch {
	case p.flags&flagValidators != 0:
		p.grace = min(c.grace, c.maxTTL)
	case p.flags&(flagNoCache|flagMustRevalidate) == 0:
		p.grace = min(c.staleGrace, c.maxTTL)
	}
}

// freshnessLifetime implements RFC 9111 §4.2.1 and the heuristic of §4.2.2.
// cachecontrol computes the explicit lifetime (s-maxage in a shared cache,
// max-age, Expires minus Date); an Expires that is not a valid date means
// already expired (§5.3), which cachecontrol would take for "no Expires".
func freshnessLifetime(c policyConfig, h http.Header, rd *responseDirectives, status int, date time.Time) (time.Duration, bool) {
	obj := cacheobject.Object{
		CacheIsPrivate: !c.shared, RespDirectives: &rd.ResponseCacheDirectives,
		RespDateHeader: date, NowUTC: date,
	}
	explicit := rd.MaxAge != -1 || c.shared && rd.SMaxAge != -1
	if exp := h["Expires"]; !explicit && len(exp) > 0 {
		t, err := http.ParseTime(exp[0])
		if err != nil || t.IsZero() {
			return 0, false
		}
		obj.RespExpiresHeader, explicit = t, true
	}
	if explicit {
		var rv cacheobject.ObjectResults
		cacheobject.ExpirationObject(&obj, &rv)
		return rv.OutExpirationTime.Sub(date), false
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
// It uses cachecontrol's reasons and corrects the ones it gets wrong, and
// adds must-understand (§5.2.2.3) and the Set-Cookie rule of shared caches.
func storableReason(c policyConfig, method string, status int, reqHeader, h http.Header,
	rd *responseDirectives, reqd *cacheobject.RequestCacheDirectives) string {
	if status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified {
		return reasonStatusNotCacheable
	}
	dirs := &rd.ResponseCacheDirectives
	if c.mustUnderstand && rd.mustUnderstand {
		if !understoodStatus(status) {
			return reasonNotUnderstood
		}
		d := *dirs // understood: judged without no-store
		d.NoStore = false
		dirs = &d
	}
	if reqHeader == nil {
		reqHeader = http.Header{}
	}
	obj := &cacheobject.Object{
		CacheIsPrivate: !c.shared,
		RespDirectives: dirs,
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
	if c.shared && len(h["Set-Cookie"]) > 0 && !dirs.Public && dirs.SMaxAge == -1 {
		return reasonSetCookie
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

// understoodStatus reports the status codes whose caching requirements a
// cache built on Policy implements (RFC 9111 §5.2.2.3): the final status
// codes defined by RFC 9110 §15, except 206 (partial content is never
// combined, §3.4) and 304 (a validation answer, never stored).
func understoodStatus(code int) bool {
	switch code {
	case 200, 201, 202, 203, 204, 205,
		300, 301, 302, 303, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
		500, 501, 502, 503, 504, 505:
		return true
	}
	return false
}
