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
	resp, err := c.send(c.req)
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
//
// Cache-Status says stored only once it is true: a response stored before
// it is returned says so in its header; a body stored when the caller has
// read it says so in the Cache-Status trailer (Response.Trailer), which
// the Transport sets, with the final member, when the body ends.
func (c *call) handleFull(resp *http.Response, reqTime time.Time, st status, old *entry, done func()) *http.Response {
	respTime := c.t.opts.now()
	if c.head && old != nil && resp.StatusCode == http.StatusOK {
		st.stored = c.headUpdate(old, resp, reqTime, respTime)
		callDone(done)
		c.label(resp, st)
		return resp
	}
	forced, refused := c.responseMode(resp)
	pol := c.policyIn(forced, c.req, resp, reqTime, respTime)
	if st.fwdStatus == 0 && st.fwd == fwdStale {
		st.fwdStatus = resp.StatusCode
	}
	if refused || !c.mayStore(resp, pol) {
		if old != nil && !pol.Storable() && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
			c.delete(old.key)
		}
		callDone(done)
		c.label(resp, st)
		return resp
	}
	stored := &tiercache.Response{
		Status: resp.StatusCode,
		Header: storedHeader(resp.Header, respTime, c.t.opts.shared),
		URL:    storedURL(c.req),
	}
	pol, ok := c.finishPolicy(pol, stored.Header, reqTime, c.metadataOf(resp))
	if !ok {
		callDone(done)
		c.label(resp, st)
		return resp
	}
	st = st.withTTL(pol.TTL(respTime))
	if resp.Body == nil || resp.Body == http.NoBody {
		st.stored = c.store(stored, pol, c.t.opts.now())
		callDone(done)
		c.label(resp, st)
		return resp
	}
	// A body with a Content-Length of 0 is captured too: it is stored once
	// read if it is empty, and a non-empty one reaches the caller intact.
	cb := newCaptureBody(resp.Body, resp.ContentLength, c.t.opts.maxBody, func(body []byte, res captureResult) {
		if res == captured {
			stored.Body = body
			if c.ho != nil && len(stored.Header["Content-Length"]) == 0 {
				// A handler's length is known only now; hits then send it.
				stored.Header["Content-Length"] = []string{itoa(int64(len(body)))}
			}
			st.stored = c.store(stored, pol, c.t.opts.now())
		} else {
			c.shard.refuse(refusalOfCapture(res))
		}
		c.setTrailer(resp, st)
		callDone(done)
	})
	cb.pol = pol
	resp.Body = cb
	c.label(resp, st)
	return resp
}

// responseMode applies the response mode function (WithResponseModeFunc) to
// resp: forced reports that a 200 is stored whatever its directives say
// (ModeIgnoreRules rules), refused that resp must not be stored.
func (c *call) responseMode(resp *http.Response) (forced, refused bool) {
	if f := c.t.opts.respMode; f != nil {
		if m, ok := f(c.req, resp); ok {
			switch m {
			case ModeNoStore:
				c.shard.refuse(refNoStore)
				return false, true
			case ModeIgnoreRules, ModeForceCache:
				return true, false
			}
			return false, false
		}
	}
	return c.mode == ModeIgnoreRules, false
}

// metadataOf returns the metadata to store with resp (WithMetadata).
func (c *call) metadataOf(resp *http.Response) map[string]string {
	if f := c.t.opts.metadata; f != nil {
		return f(c.req, resp)
	}
	return nil
}

// finishPolicy adds to pol, the policy of a response with header h about to
// be stored for a request sent at sent, the metadata meta and, with
// WithPurge, the purge generations of its tags and URL. It reports false
// (and counts the refusal) when the response must not be stored: too many
// tags, a generation that cannot be read, or a purge since sent.
func (c *call) finishPolicy(pol *tiercache.Policy, h http.Header, sent time.Time, meta map[string]string) (*tiercache.Policy, bool) {
	if len(meta) > 0 {
		pol = pol.WithMetadata(meta)
	}
	if c.t.purge == nil {
		return pol, true
	}
	rec, why, ok := c.t.purge.record(c.req, h, c.key, sent)
	if !ok {
		c.shard.refuse(why)
		return pol, false
	}
	return pol.WithExtension(tiercache.ExtensionPurge, rec), true
}

// keepMetadata returns pol with the metadata of old, the policy of the
// stored response a 304 or HEAD response freshens.
func keepMetadata(old, pol *tiercache.Policy) *tiercache.Policy {
	if d := old.Extension(tiercache.ExtensionMetadata); d != nil {
		return pol.WithExtension(tiercache.ExtensionMetadata, d)
	}
	return pol
}

// setTrailer sets the final Cache-Status member st in resp's trailer. It
// runs on the caller's goroutine, inside the Read or Close that ended the
// body, as net/http fills trailers.
func (c *call) setTrailer(resp *http.Response, st status) {
	if !c.t.opts.cacheStatus || c.background {
		return
	}
	if resp.Trailer == nil {
		resp.Trailer = make(http.Header, 1)
	}
	resp.Trailer["Cache-Status"] = []string{c.t.formatStatus(c.withDetail(st))}
}

func refusalOfCapture(res captureResult) refusal {
	if res == tooLarge {
		return refTooLarge
	}
	return refIncomplete
}

// mayStore reports whether resp, the response to the call's request, may be
// stored: a GET, not refused by no-store, storable by its policy, and not
// known to exceed the body limit. A refused GET response is counted.
func (c *call) mayStore(resp *http.Response, pol *tiercache.Policy) bool {
	switch {
	case c.req.Method != http.MethodGet:
		return false
	case c.dirs.NoStore:
		c.shard.refuse(refNoStore)
	case !pol.Storable():
		c.shard.refuse(refusalOf(pol.Reason()))
	case resp.ContentLength > c.t.opts.maxBody:
		c.shard.refuse(refTooLarge)
	default:
		return true
	}
	return false
}

// storedURL returns the URL stored with a response: the request's URL
// without user information (credentials never reach a tier) or fragment.
func storedURL(req *http.Request) string {
	u := req.URL
	if u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		c := *u
		c.User, c.Fragment, c.RawFragment = nil, "", ""
		u = &c
	}
	return u.String()
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
