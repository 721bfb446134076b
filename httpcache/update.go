package httpcache

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/tiercache/tiercache"
)

// This file updates stored responses from responses that carry no content:
// a 304 to a validation request (RFC 9111 §4.3.4) and a 200 to a HEAD
// request (§4.3.5).

// validatorMatch compares the validators of a 304 response (header fresh)
// with a stored response's header (RFC 9111 §4.3.4, RFC 9110 §8.8). It
// reports whether the 304 names the stored response and whether it does
// so with a strong validator:
//   - a strong ETag matches an identical strong ETag, strongly;
//   - a weak ETag matches by weak comparison, weakly;
//   - without ETag, a Last-Modified matches an equal Last-Modified; it is
//     strong when the stored Date is at least one second later than
//     Last-Modified (RFC 9110 §8.8.2.2, the rule for a cache comparing with
//     its own entry), weak otherwise.
func validatorMatch(stored, fresh http.Header) (match, strong bool) {
	if tag := fresh.Get("ETag"); tag != "" {
		have := stored.Get("ETag")
		if strings.HasPrefix(tag, "W/") {
			return weakEqual(tag, have), false
		}
		return tag == have, true
	}
	lm, err := http.ParseTime(fresh.Get("Last-Modified"))
	if err != nil {
		return false, false
	}
	have, err := http.ParseTime(stored.Get("Last-Modified"))
	if err != nil || !have.Equal(lm) {
		return false, false
	}
	date, err := http.ParseTime(stored.Get("Date"))
	return true, err == nil && date.Sub(lm) >= time.Second
}

// hasValidator reports an ETag or a Last-Modified field.
func hasValidator(h http.Header) bool {
	return h.Get("ETag") != "" || h.Get("Last-Modified") != ""
}

// selectForUpdate returns the stored responses a 304 with header fresh
// identifies for update (RFC 9111 §4.3.4) when it answers the validation of
// e, and whether e is one of them:
//   - with a strong validator: every stored variant with the same strong
//     validator (none when none has it);
//   - with a weak validator: the most recent matching stored variant (by
//     age; e on a tie);
//   - with no validator: e alone. The 304 answers the conditional request
//     that carried e's validators, so it names e (the RFC's third rule,
//     "only one stored response, without a validator", is about validators
//     the cache did not send, which the Transport never does).
//
// The other variants are those listed in the variant index (variants.go);
// a response without Vary has none.
func (c *call) selectForUpdate(e *entry, fresh http.Header, now time.Time) ([]*entry, bool) {
	if !hasValidator(fresh) {
		return []*entry{e}, true
	}
	cands := append([]*entry{e}, c.siblings(e)...)
	var strong []*entry
	var recent *entry
	for _, o := range cands {
		match, isStrong := validatorMatch(o.resp.Header, fresh)
		switch {
		case !match:
		case isStrong:
			strong = append(strong, o)
		case recent == nil || o.pol.Age(now) < recent.pol.Age(now):
			recent = o
		}
	}
	if len(strong) > 0 {
		return strong, strong[0] == e
	}
	if recent == nil {
		return nil, false
	}
	return []*entry{recent}, recent == e
}

// siblings returns the stored variants listed in the index of the call's
// primary key other than e; nil when e is not a variant.
func (c *call) siblings(e *entry) []*entry {
	if e.key == c.key {
		return nil
	}
	idx, _, err := c.t.m.Get(c.ctx(), c.key)
	if err != nil {
		c.t.report(c.req, "get", c.key, err)
		return nil
	}
	if idx == nil || len(idx.Header[indexField]) != 1 {
		return nil
	}
	nonce := idx.Header[indexField][0]
	var out []*entry
	for _, hash := range listedVariants(idx.Header) {
		key := variantKeyOf(c.key, nonce, hash)
		if key == e.key {
			continue
		}
		resp, pol, err := c.t.m.Get(c.ctx(), key)
		if err != nil {
			c.t.report(c.req, "get", key, err)
			continue
		}
		if resp != nil && pol != nil && len(resp.Header[indexField]) == 0 && c.current(pol) {
			out = append(out, &entry{key: key, resp: resp, pol: pol})
		}
	}
	return out
}

// freshenVariant applies a 304's header to o, a stored variant other than
// the one validated, and stores it under its own key. Its policy is
// computed for a request with o's own Vary values. A variant whose Vary
// fields the 304 changes is left alone (it revalidates on its own).
func (c *call) freshenVariant(o *entry, fresh http.Header, reqTime, respTime time.Time) {
	resp := &tiercache.Response{
		Status: o.resp.Status,
		Header: mergeHeader(o.resp.Header, fresh, respTime, c.t.opts.shared),
		Body:   o.resp.Body,
		URL:    o.resp.URL,
	}
	names := varyNames(resp.Header)
	i := strings.LastIndexByte(o.key, '-')
	if i < 0 || len(names) == 0 || strings.Join(names, ",") != strings.Join(varyNames(o.resp.Header), ",") {
		return
	}
	req := c.variantRequest(o.pol)
	pol := c.policyFor(req, &http.Response{StatusCode: resp.Status, Header: resp.Header, Request: req}, reqTime, respTime)
	if c.dirs.NoStore || !pol.Storable() {
		return
	}
	if pol, ok := c.finishPolicy(keepMetadata(o.pol, pol), resp.Header, reqTime, nil); ok {
		c.storeVariant(names, o.key[i+1:], resp, pol, respTime)
	}
}

// variantRequest returns a copy of the call's request carrying the values
// of the Vary fields recorded in pol (absent when recorded empty).
func (c *call) variantRequest(pol *tiercache.Policy) *http.Request {
	r := c.req.Clone(c.ctx())
	if r.Header == nil {
		r.Header = http.Header{}
	}
	for _, f := range pol.Vary() {
		if f.Value == "" {
			delete(r.Header, f.Name)
		} else {
			r.Header[f.Name] = []string{f.Value}
		}
	}
	return r
}

// headUpdate applies a 200 response to a HEAD request to old, the stored
// GET response the request selected (RFC 9111 §4.3.5). When the ETag and
// Last-Modified the HEAD response has are those of old, and its
// Content-Length (if any) is old's body length, old's header is updated as
// for a 304 (§3.2) and its freshness recomputed; otherwise old is
// invalidated. It reports whether old was updated and stored.
func (c *call) headUpdate(old *entry, resp *http.Response, reqTime, respTime time.Time) bool {
	if !headMatches(old.resp, resp) {
		c.delete(old.key)
		return false
	}
	stored := &tiercache.Response{
		Status: old.resp.Status,
		Header: mergeHeader(old.resp.Header, resp.Header, respTime, c.t.opts.shared),
		Body:   old.resp.Body,
		URL:    old.resp.URL,
	}
	get := *c.req
	get.Method = http.MethodGet
	pol := c.policyFor(&get, &http.Response{StatusCode: stored.Status, Header: stored.Header, Request: &get}, reqTime, respTime)
	switch {
	case c.dirs.NoStore:
		return false
	case !pol.Storable():
		c.delete(old.key) // the new metadata forbids storing: no longer usable
		return false
	}
	pol, ok := c.finishPolicy(keepMetadata(old.pol, pol), stored.Header, reqTime, nil)
	return ok && c.store(stored, pol, respTime)
}

// headMatches reports whether the 200 response to a HEAD request describes
// the stored GET response s (RFC 9111 §4.3.5).
func headMatches(s *tiercache.Response, head *http.Response) bool {
	if s.Status != http.StatusOK {
		return false
	}
	if tag := head.Header.Get("ETag"); tag != "" && tag != s.Header.Get("ETag") {
		return false
	}
	if lm := head.Header.Get("Last-Modified"); lm != "" {
		a, errA := http.ParseTime(lm)
		b, errB := http.ParseTime(s.Header.Get("Last-Modified"))
		if errA != nil || errB != nil || !a.Equal(b) {
			return false
		}
	}
	n := head.ContentLength
	if cl := head.Header.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(textproto.TrimString(cl), 10, 64)
		if err != nil {
			return false
		}
		n = v
	}
	return n < 0 || n == int64(len(s.Body))
}

// headTarget returns the stored GET response a HEAD request selects, so
// that a HEAD forwarded without validation (Reload, origin preconditions)
// still updates or invalidates it (RFC 9111 §4.3.5); nil for a GET.
func (c *call) headTarget() *entry {
	if !c.head || c.mode == ModeNoStore {
		return nil
	}
	e, _ := c.lookup()
	return e
}

// delete removes key; an error goes to the ErrorHook.
func (c *call) delete(key string) {
	if err := c.t.m.Delete(c.ctx(), key); err != nil {
		c.t.report(c.req, "delete", key, err)
	}
}
