package httpcache

import (
	"net/http"
	"strings"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// originConditional reports a request the cache must not answer itself:
// preconditions meant for the origin (If-Match, If-Unmodified-Since,
// If-Range) or a Range (RFC 9111 §4.3.2). Such requests are forwarded; a
// full response to them may still be stored.
func originConditional(req *http.Request) bool {
	h := req.Header
	return len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0 ||
		len(h["If-Range"]) > 0 || len(h["Range"]) > 0
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
	ims := ""
	if v := req.Header["If-Modified-Since"]; len(v) > 0 {
		ims = v[0]
	}
	if ims == "" {
		return false
	}
	since, err := http.ParseTime(ims)
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
