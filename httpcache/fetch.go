package httpcache

import (
	"io"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// fetch forwards the request unchanged and handles the full response. done,
// when not nil, is called once the response is stored or known not to be.
func (c *call) fetch(st status, old *entry, done func()) (*http.Response, error) {
	reqTime := c.t.opts.now()
	resp, err := c.t.opts.upstream.RoundTrip(c.req)
	if err != nil {
		callDone(done)
		return nil, err
	}
	return c.handleFull(resp, reqTime, st, old, done), nil
}

func callDone(done func()) {
	if done != nil {
		done()
	}
}

// handleFull labels a response from the origin and arranges for it to be
// stored once its body has been read completely (RFC 9111 §3), or
// immediately when it has no body. A response that may not be stored
// replaces nothing, but a stale entry it supersedes is deleted. A 200 to a
// HEAD request updates or invalidates old instead (RFC 9111 §4.3.5).
func (c *call) handleFull(resp *http.Response, reqTime time.Time, st status, old *entry, done func()) *http.Response {
	respTime := c.t.opts.now()
	if c.head && old != nil && resp.StatusCode == http.StatusOK {
		if c.headUpdate(old, resp, reqTime, respTime) {
			st = st.withStored()
		}
		callDone(done)
		c.t.setStatus(resp.Header, c.withDetail(st))
		return resp
	}
	pol := c.policy(resp, reqTime, respTime)
	if st.fwdStatus == 0 && st.fwd == fwdStale {
		st.fwdStatus = resp.StatusCode
	}
	if !c.mayStore(resp, pol) {
		if old != nil && !pol.Storable() && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
			if err := c.t.m.Delete(c.ctx(), old.key); err != nil {
				c.t.report(c.req, "delete", old.key, err)
			}
		}
		callDone(done)
		c.t.setStatus(resp.Header, c.withDetail(st))
		return resp
	}
	stored := &tiercache.Response{
		Status: resp.StatusCode,
		Header: storedHeader(resp.Header, respTime),
		URL:    c.req.URL.String(),
	}
	finish := func(body []byte, ok bool) {
		if ok {
			stored.Body = body
			c.store(stored, pol, c.t.opts.now())
		}
		callDone(done)
	}
	c.t.setStatus(resp.Header, c.withDetail(st).withStored().withTTL(pol.TTL(respTime)))
	if resp.Body == nil || resp.Body == http.NoBody {
		finish(nil, true)
		return resp
	}
	// A body with a Content-Length of 0 is captured too: it is stored once
	// read if it is empty, and a non-empty one reaches the caller intact.
	resp.Body = newCaptureBody(resp.Body, resp.ContentLength, c.t.opts.maxBody, finish)
	return resp
}

// withStored sets the stored parameter: the response is stored once its
// body has been read completely.
func (st status) withStored() status {
	st.stored = true
	return st
}

// mayStore reports whether resp, the response to the call's request, may be
// stored: a GET, not refused by the mode or by no-store, storable by its
// policy, and not known to exceed the body limit.
func (c *call) mayStore(resp *http.Response, pol *tiercache.Policy) bool {
	return c.req.Method == http.MethodGet && c.mode != ModeNoStore && !c.dirs.NoStore &&
		pol.Storable() && resp.ContentLength <= c.t.opts.maxBody
}

// drain reads a little of an unwanted body so the connection can be reused,
// and closes it.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}
