package httpcache

import (
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// revalidate validates the stored response e with the origin (RFC 9111
// §4.3): a conditional request when e has validators, else the request as
// is (a HEAD request is forwarded as is: its 200 updates or invalidates e,
// §4.3.5). A 304 freshens e and every other stored variant it selects
// (§4.3.4); a full response replaces it (§4.3.3); a server error or a
// network failure serves e within its stale-if-error window, and a
// network failure on a must-revalidate response gives 504 (§5.2.2.2), for
// GET and HEAD alike.
func (c *call) revalidate(e *entry, fwd string) (*http.Response, error) {
	out, creq := c.req, (*http.Request)(nil)
	if !c.head {
		if creq = conditionalRequest(c.req, e.resp.Header); creq != nil {
			out = creq
		}
	}
	reqTime := c.t.opts.now()
	resp, err := c.send(out)
	now := c.t.opts.now()
	if err != nil {
		return c.originFailed(e, fwd, 0, err, now)
	}
	if isServerError(resp.StatusCode) && c.staleIfError(e, now) {
		drain(resp.Body)
		return c.originFailed(e, fwd, resp.StatusCode, nil, now)
	}
	if resp.StatusCode == http.StatusNotModified && creq != nil {
		drain(resp.Body)
		return c.notModified(e, resp.Header, fwd, reqTime, now)
	}
	return c.handleFull(resp, reqTime, status{fwd: fwd, fwdStatus: resp.StatusCode, outcome: outMiss}, e, nil), nil
}

// originFailed answers a validation the origin did not answer (err) or
// answered with a server error (code): e within its stale-if-error window,
// a 504 for a must-revalidate response the origin could not be reached
// for, and otherwise err.
func (c *call) originFailed(e *entry, fwd string, code int, err error, now time.Time) (*http.Response, error) {
	c.failed, c.failedCode = true, int16(code)
	switch {
	case c.staleIfError(e, now):
		c.t.logOriginError(c, code, err)
		return c.serve(e, status{hit: true, fwd: fwd, fwdStatus: code, detail: "stale-if-error", outcome: outStaleOnError}, now), nil
	case err != nil && e.pol.MustRevalidate() && e.pol.TTL(now) <= 0:
		return c.gatewayTimeout(status{fwd: fwd, detail: "origin-unreachable", outcome: outOriginError}), nil
	}
	return nil, err
}

// notModified handles a 304 answer to the validation of e: it updates the
// stored responses it selects (RFC 9111 §4.3.4) and serves e, or, when the
// 304 does not select e, fetches the response in full.
func (c *call) notModified(e *entry, h http.Header, fwd string, reqTime, now time.Time) (*http.Response, error) {
	targets, selected := c.selectForUpdate(e, h, now)
	for _, o := range targets {
		if o != e {
			c.freshenVariant(o, h, reqTime, now)
		}
	}
	if !selected { // the 304 does not update e: get it in full
		return c.fetch(status{fwd: fwd, outcome: outMiss}, e, nil)
	}
	fresh, stored := c.freshen(e, h, reqTime, now)
	return c.serve(fresh, status{fwd: fwd, fwdStatus: http.StatusNotModified, stored: stored, outcome: outRevalidated}, now), nil
}

// freshen applies a 304's header to the stored response e, recomputes its
// policy as if the merged response had just arrived, and stores it
// (RFC 9111 §3.2, §4.3.4). It reports whether it was stored.
func (c *call) freshen(e *entry, header http.Header, reqTime, respTime time.Time) (*entry, bool) {
	resp := &tiercache.Response{
		Status: e.resp.Status,
		Header: mergeHeader(e.resp.Header, header, respTime, c.t.opts.shared),
		Body:   e.resp.Body,
		URL:    e.resp.URL,
	}
	pol := keepMetadata(e.pol, c.policy(&http.Response{StatusCode: resp.Status, Header: resp.Header, Request: c.req}, reqTime, respTime))
	out := &entry{key: e.key, resp: resp, pol: pol}
	switch {
	case c.dirs.NoStore:
		c.shard.refuse(refNoStore)
	case !pol.Storable():
		c.shard.refuse(refusalOf(pol.Reason()))
	default:
		if pol, ok := c.finishPolicy(pol, resp.Header, reqTime, nil); ok {
			out.pol = pol
			return out, c.store(resp, pol, respTime)
		}
	}
	return out, false
}
