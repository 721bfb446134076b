package httpcache

import (
	"bytes"
	"net/http"
	"slices"
	"time"

	"github.com/tiercache/tiercache"
)

// entry is a stored response selected for a request and the key it is
// stored under (the primary key or a variant key).
type entry struct {
	key  string
	resp *tiercache.Response
	pol  *tiercache.Policy
}

// serve builds a new *http.Response from the stored entry e at now: a
// clone of the stored header with Age and Cache-Status, and a body reading
// the stored bytes in place (no copy). A request whose If-None-Match or
// If-Modified-Since matches gets a 304 (RFC 9111 §4.3.2); one with a
// single satisfiable Range (and a matching If-Range) gets a 206 of that
// range (RFC 9110 §14.2; the caller checked it is satisfiable).
func (c *call) serve(e *entry, st status, now time.Time) *http.Response {
	var cs string
	if c.t.opts.cacheStatus {
		cs = c.t.formatStatus(c.withDetail(st).withTTL(e.pol.TTL(now)))
	}
	var dst http.Header // a Middleware builds the header in the client's own map
	if c.ho != nil && c.ho.w != nil {
		dst = c.ho.w.Header()
	}
	h := c.t.responseHeader(dst, e.resp.Header, ageValue(e.pol.Age(now)), cs)
	body := e.resp.Body
	resp := &http.Response{
		Status:     statusLine(e.resp.Status),
		StatusCode: e.resp.Status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Request:    c.req,
	}
	switch first, n, ranged, _ := c.byteRange(e); {
	case e.resp.Status == http.StatusOK && notModified(c.req, h):
		resp.StatusCode, resp.Status = http.StatusNotModified, statusLine(http.StatusNotModified)
		delete(h, "Content-Length")
		body = nil
	case ranged:
		resp.StatusCode, resp.Status = http.StatusPartialContent, statusLine(http.StatusPartialContent)
		h["Content-Range"] = []string{"bytes " + itoa(first) + "-" + itoa(first+n-1) + "/" + itoa(int64(len(body)))}
		body = body[first : first+n]
		h["Content-Length"] = []string{itoa(n)}
	}
	resp.ContentLength = int64(len(body))
	if c.head || len(body) == 0 {
		body = nil
	}
	if body == nil && e.pol.Extension(tiercache.ExtensionMetadata) == nil {
		resp.Body = http.NoBody
	} else {
		b := &storedBody{pol: e.pol}
		b.Reset(body)
		resp.Body = b
	}
	if !c.background {
		c.shard.served(st.outcome, len(body))
	}
	if dst != nil {
		c.ho.placed = resp
	}
	if c.t.opts.onCached != nil {
		c.t.opts.onCached(c.req, resp)
	}
	return resp
}

// storedBody reads a stored body in place; Close does nothing. It carries
// the entry's policy, for Metadata.
type storedBody struct {
	bytes.Reader
	pol *tiercache.Policy
}

func (*storedBody) Close() error { return nil }

// responseHeader returns the header of a response served from the cache,
// in dst (a new map when nil): a copy of the stored header src with Age set
// to age and, unless cs is empty, the Cache-Status member cs appended. Fields that are never stored
// (unstoredField, the fields a stored Connection lists, and private fields
// in a shared cache) are left out, should a tier hold an entry another
// writer stored with them. The map and every value slice come from two
// allocations (http.Header.Clone's, plus room for Age and Cache-Status);
// the value strings are shared, as immutable strings are. The tag fields
// are left out too when the Transport strips them (WithPurge).
func (t *Transport) responseHeader(dst, src http.Header, age, cs string) http.Header {
	shared := t.opts.shared
	nv := 2
	for _, vs := range src {
		nv += len(vs)
	}
	all := make([]string, 0, nv)
	h := dst
	if h == nil {
		h = make(http.Header, len(src)+2)
	}
	skip := connectionFields(src)
	for k, vs := range src {
		switch {
		case k == "Age" || unstoredField(k) || privateField(k, shared) || skip != nil && slices.Contains(skip, k) || t.tagField(k):
			continue
		case vs == nil:
			h[k] = nil
			continue
		}
		all = appendValues(h, all, k, vs...)
	}
	all = appendValues(h, all, "Age", age)
	if up := src["Cache-Status"]; len(up) > 0 || cs != "" {
		n := len(all)
		all = append(append(all, up...), cs)
		if cs == "" {
			all = all[:len(all)-1]
		}
		h["Cache-Status"] = all[n:len(all):len(all)]
	}
	return h
}

// appendValues appends vs to all and sets h[k] to them (capacity clipped,
// so that an append to h[k] never writes into the next field's values).
func appendValues(h http.Header, all []string, k string, vs ...string) []string {
	n := len(all)
	all = append(all, vs...)
	h[k] = all[n:len(all):len(all)]
	return all
}

// withDetail adds the call's detail (e.g. a cache error) to st when st has
// none.
func (c *call) withDetail(st status) status {
	if st.detail == "" {
		st.detail = c.detail
	}
	return st
}

// gatewayTimeout is the 504 response of a request that may not be
// forwarded (only-if-cached, RFC 9111 §5.2.1.7) or of a must-revalidate
// response whose origin cannot be reached (§5.2.2.2).
func (c *call) gatewayTimeout(st status) *http.Response {
	h := http.Header{"Content-Length": {"0"}}
	c.t.setStatus(h, c.withDetail(st))
	if !c.background {
		c.shard.count(st.outcome)
	}
	return &http.Response{
		Status:     statusLine(http.StatusGatewayTimeout),
		StatusCode: http.StatusGatewayTimeout,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       http.NoBody,
		Request:    c.req,
	}
}
