package httpcache

import (
	"bytes"
	"io"
	"net/http"
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
// If-Modified-Since matches gets a 304 (RFC 9111 §4.3.2).
func (c *call) serve(e *entry, st status, now time.Time) *http.Response {
	h := e.resp.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h["Age"] = []string{ageValue(e.pol.Age(now))}
	c.t.setStatus(h, c.withDetail(st).withTTL(e.pol.TTL(now)))
	resp := &http.Response{
		Status:        statusLine(e.resp.Status),
		StatusCode:    e.resp.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: int64(len(e.resp.Body)),
		Request:       c.req,
	}
	switch {
	case e.resp.Status == http.StatusOK && notModified(c.req, h):
		resp.StatusCode, resp.Status = http.StatusNotModified, statusLine(http.StatusNotModified)
		delete(h, "Content-Length")
		resp.ContentLength = 0
		resp.Body = http.NoBody
	case c.head || len(e.resp.Body) == 0:
		resp.Body = http.NoBody
	default:
		resp.Body = io.NopCloser(bytes.NewReader(e.resp.Body))
	}
	if c.t.opts.onCached != nil {
		c.t.opts.onCached(c.req, resp)
	}
	return resp
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
