package httpcache

import (
	"net/http"
	"net/url"
	"strings"
)

// safeMethod reports the methods that do not invalidate (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// passThrough forwards a request whose method the cache does not serve.
// A non-error response (2xx, 3xx) to an unsafe method invalidates the
// target URI and the same-origin URIs of Location and Content-Location
// (RFC 9111 §4.4).
func (c *call) passThrough() (*http.Response, error) {
	resp, err := c.send(c.req)
	if err != nil {
		return nil, err
	}
	c.afterUnsafe(resp.StatusCode, resp.Header)
	c.label(resp, c.passStatus())
	return resp, nil
}

// passStatus is the Cache-Status member of a request forwarded because of
// its method (or the NoStore mode).
func (c *call) passStatus() status {
	if c.mode == ModeNoStore {
		return status{fwd: fwdBypass, outcome: outBypass}
	}
	return status{fwd: fwdMethod, outcome: outUncacheable}
}

// afterUnsafe runs once the origin answered a request with status code and
// header h: a non-error response (2xx, 3xx) to an unsafe method
// invalidates (RFC 9111 §4.4) and busts (WithCacheBust).
func (c *call) afterUnsafe(code int, h http.Header) {
	if safeMethod(c.req.Method) || code < 200 || code >= 400 {
		return
	}
	c.t.invalidate(c.req, h)
	c.bust()
}

// bust deletes the keys the cache bust function returns for the request.
func (c *call) bust() {
	f := c.t.opts.bust
	if f == nil {
		return
	}
	key := c.t.primaryKey(c.req) // the GET key for GET and HEAD
	if c.req.Method != http.MethodGet && c.req.Method != http.MethodHead {
		key = c.t.opts.key(c.req)
	}
	for _, k := range f(c.req, key) {
		c.delete(k)
	}
}

// invalidate deletes the stored responses of the request's target URI and
// of the same-origin Location and Content-Location of the response header
// h. The target URI's authority is the request's Host when it overrides
// the URL's.
func (t *Transport) invalidate(req *http.Request, h http.Header) {
	target := req.URL
	if req.Host != "" && req.Host != target.Host {
		c := *target
		c.Host = req.Host
		target = &c
	}
	t.invalidateURI(req, target)
	for _, f := range []string{"Location", "Content-Location"} {
		v := h.Get(f)
		if v == "" {
			continue
		}
		u, err := target.Parse(v)
		if err != nil || !sameOrigin(target, u) {
			continue
		}
		t.invalidateURI(req, u)
	}
}

// invalidateURI deletes the primary key of a GET of u. Deleting a variant
// index makes every variant under it unreachable (see variants.go).
func (t *Transport) invalidateURI(req *http.Request, u *url.URL) {
	r := req.Clone(req.Context())
	r.Method, r.URL, r.Host, r.Body = http.MethodGet, u, u.Host, nil
	key := t.opts.key(r)
	c := &call{t: t, req: r}
	if err := t.m.Delete(c.ctx(), key); err != nil {
		t.report(req, "delete", key, err)
	}
}

// sameOrigin compares scheme, host and port (RFC 9110 §4.3.1).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
