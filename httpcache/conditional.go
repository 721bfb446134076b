package httpcache

import (
	"net/http"
	"strings"
	"time"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// originConditional reports a request the cache must not answer itself:
// preconditions meant for the origin (If-Match, If-Unmodified-Since,
// RFC 9111 §4.3.2), or a Range the cache does not serve (several ranges,
// another unit, a syntax error; a Range on a HEAD request is ignored, as
// RFC 9110 §14.2 defines ranges for GET only). Such requests are
// forwarded; a full response to them may still be stored.
func originConditional(req *http.Request, head bool) bool {
	h := req.Header
	if len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0 {
		return true
	}
	rng := h["Range"]
	return !head && len(rng) > 0 && (len(rng) > 1 || !singleByteRange(rng[0]))
}

// singleByteRange reports a Range value the cache may serve: one byte
// range (satisfiable or not, which depends on the stored body).
func singleByteRange(v string) bool {
	_, _, ok := httpfield.SingleRange(v, 1<<62)
	return ok
}

// byteRange returns the part of a stored 200 response's body the request
// asks for (RFC 9110 §14.2): ok is false when the request has no Range,
// when an If-Range does not match the stored response (§13.1.5: the whole
// response is served) or when the range is not satisfiable (the caller
// forwards the request).
func (c *call) byteRange(e *entry) (first, n int64, ranged, ok bool) {
	rng := c.req.Header["Range"]
	if c.head || len(rng) != 1 || e.resp.Status != http.StatusOK || !ifRange(c.req.Header, e.resp.Header) {
		return 0, 0, false, true
	}
	first, n, ok = httpfield.SingleRange(rng[0], int64(len(e.resp.Body)))
	return first, n, true, ok
}

// ifRange evaluates If-Range against the stored header h (RFC 9110
// §13.1.5): true without If-Range; with an entity tag, true when it is
// strong and equals the stored ETag (strong comparison); with a date, true
// when it equals the stored Last-Modified and that is a strong validator
// (the stored Date at least a second later, §8.8.2.2).
func ifRange(req, h http.Header) bool {
	v := req["If-Range"]
	if len(v) == 0 {
		return true
	}
	cond := strings.TrimSpace(v[0])
	if strings.HasPrefix(cond, `"`) || strings.HasPrefix(cond, "W/") {
		return !strings.HasPrefix(cond, "W/") && cond == h.Get("ETag")
	}
	t, err := http.ParseTime(cond)
	if err != nil {
		return false
	}
	lm, err1 := http.ParseTime(h.Get("Last-Modified"))
	date, err2 := http.ParseTime(h.Get("Date"))
	return err1 == nil && err2 == nil && lm.Equal(t) && date.Sub(lm) >= time.Second
}

// notModified evaluates the request's If-None-Match (weak comparison) or,
// without it, If-Modified-Since against the selected stored response's
// header h (RFC 9110 §13.1.2, §13.1.3; RFC 9111 §4.3.2): its Last-Modified,
// or its Date when it has none.
func notModified(req *http.Request, h http.Header) bool {
	// Direct map reads: the request header's keys are canonical, and this
	// runs on every hit.
	if inm := req.Header["If-None-Match"]; len(inm) > 0 {
		etag := h.Get("ETag")
		for tag := range httpfield.Elements(inm) {
			if tag == "*" || etag != "" && weakEqual(tag, etag) {
				return true
			}
		}
		return false
	}
	ims := req.Header["If-Modified-Since"]
	if len(ims) == 0 || ims[0] == "" {
		return false
	}
	since, err := http.ParseTime(ims[0])
	if err != nil {
		return false
	}
	// Without Last-Modified, the stored Date stands in (RFC 9111 §4.3.2).
	v := h.Get("Last-Modified")
	if v == "" {
		v = h.Get("Date")
	}
	lm, err := http.ParseTime(v)
	return err == nil && !lm.After(since)
}

// weakEqual compares entity tags ignoring the weak indicator (RFC 9110 §8.8.3.2).
func weakEqual(a, b string) bool {
	return a != "" && strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// conditionalRequest returns a copy of req that validates the stored
// response with header h (If-None-Match from ETag, If-Modified-Since from
// Last-Modified, RFC 9111 §4.3.1), with the client's own validators
// removed, or nil when h has no validators.
func conditionalRequest(req *http.Request, h http.Header) *http.Request {
	etag, lm := h.Get("ETag"), h.Get("Last-Modified")
	if etag == "" && lm == "" {
		return nil
	}
	r := req.Clone(req.Context())
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Del("If-None-Match")
	r.Header.Del("If-Modified-Since")
	if etag != "" {
		r.Header.Set("If-None-Match", etag)
	}
	if lm != "" {
		r.Header.Set("If-Modified-Since", lm)
	}
	return r
}
