package httpcache

import (
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// revalidate validates the stored response e with the origin (RFC 9111
// §4.3): a conditional request when e has validators, else the request as
// is. A 304 freshens e and every other stored variant it selects
// (§4.3.4); a full response replaces it (§4.3.3); a HEAD request's 200
// updates or invalidates e (§4.3.5); a
// server error or a network failure serves e within its stale-if-error
// window, and a network failure on a must-revalidate response gives 504
// (§5.2.2.2).
func (c *call) revalidate(e *entry, fwd string) (*http.Response, error) {
	st := status{fwd: fwd}
	if c.head {
		return c.fetch(st, e, nil) // §4.3.5: a 200 updates or invalidates e
	}
	creq := conditionalRequest(c.req, e.resp.Header)
	out := c.req
	if creq != nil {
		out = creq
	}
	reqTime := c.t.opts.now()
	resp, err := c.t.opts.upstream.RoundTrip(out)
	if err != nil {
		now := c.t.opts.now()
		switch {
		case c.staleIfError(e, now):
			return c.serve(e, status{hit: true, fwd: fwd, detail: "stale-if-error"}, now), nil
		case e.pol.MustRevalidate() && e.pol.TTL(now) <= 0:
			return c.gatewayTimeout(status{fwd: fwd, detail: "origin-unreachable"}), nil
		}
		return nil, err
	}
	now := c.t.opts.now()
	if isServerError(resp.StatusCode) && c.staleIfError(e, now) {
		drain(resp.Body)
		return c.serve(e, status{hit: true, fwd: fwd, fwdStatus: resp.StatusCode, detail: "stale-if-error"}, now), nil
	}
	if resp.StatusCode == http.StatusNotModified && creq != nil {
		drain(resp.Body)
		targets, selected := c.selectForUpdate(e, resp.Header, now)
		for _, o := range targets {
			if o != e {
				c.freshenVariant(o, resp.Header, reqTime, now)
			}
		}
		if !selected { // the 304 does not update e: get it in full
			return c.fetch(st, e, nil)
		}
		fresh := c.freshen(e, resp.Header, reqTime, now)
		return c.serve(fresh, status{fwd: fwd, fwdStatus: http.StatusNotModified, stored: fresh.key != ""}, now), nil
	}
	st.fwdStatus = resp.StatusCode
	return c.handleFull(resp, reqTime, st, e, nil), nil
}

// freshen applies a 304's header to the stored response e, recomputes its
// policy as if the merged response had just arrived, and stores it
// (RFC 9111 §3.2, §4.3.4). The returned entry has an empty key when it was
// not stored.
func (c *call) freshen(e *entry, header http.Header, reqTime, respTime time.Time) *entry {
	resp := &tiercache.Response{
		Status: e.resp.Status,
		Header: mergeHeader(e.resp.Header, header, respTime),
		Body:   e.resp.Body,
		URL:    e.resp.URL,
	}
	pol := c.policy(&http.Response{StatusCode: resp.Status, Header: resp.Header, Request: c.req}, reqTime, respTime)
	out := &entry{resp: resp, pol: pol}
	if c.dirs.NoStore || !pol.Storable() {
		return out
	}
	c.store(resp, pol, respTime)
	out.key = e.key
	return out
}
