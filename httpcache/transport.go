package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// ErrCache is wrapped by every error passed to the ErrorHook: a Get, Put or
// Delete of the Manager failed and the Transport carried on without it.
var ErrCache = errors.New("httpcache: cache operation failed")

var errNilURL = errors.New("httpcache: nil Request.URL")

// Transport is an RFC 9111 caching http.RoundTripper over a
// tiercache.Manager. It is safe for concurrent use. See the package
// documentation for what it stores and how it serves.
//
// A fresh hit costs one or two Manager Gets (two when the response varies),
// a copy of the stored header map (the map and one array for all its
// values, Age and Cache-Status included) and about nine allocations in all
// with DefaultKey; the stored body is never copied. A Transport that served stale-while-revalidate
// responses may have background revalidations running: Close waits for them.
type Transport struct {
	m         tiercache.Manager
	opts      options
	polOpts   []tiercache.PolicyOption // shared, must-understand, max TTL; times are added per call
	ignoreTTL time.Duration            // the lifetime ModeIgnoreRules gives
	flights   flights
	bg        background
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns a Transport that caches the responses of its upstream
// RoundTripper (WithTransport, default http.DefaultTransport) in m.
func New(m tiercache.Manager, opts ...Option) *Transport {
	t := &Transport{m: m, opts: newOptions(opts)}
	t.polOpts = []tiercache.PolicyOption{tiercache.WithShared(t.opts.shared), tiercache.WithMustUnderstand(true)}
	t.ignoreTTL = DefaultIgnoreRulesTTL
	if t.opts.maxTTL > 0 {
		t.polOpts = append(t.polOpts, tiercache.WithMaxTTL(t.opts.maxTTL))
		t.ignoreTTL = t.opts.maxTTL
	}
	t.bg.init()
	return t
}

// Close stops background revalidations (stale-while-revalidate) and waits
// for those running to end. The Transport keeps serving requests afterwards
// but starts no more background work. Close is idempotent and returns nil.
func (t *Transport) Close() error {
	t.bg.close()
	return nil
}

// call is the state of one RoundTrip through the cache.
type call struct {
	t      *Transport
	req    *http.Request
	mode   Mode
	dirs   tiercache.RequestDirectives
	key    string // primary key
	now    time.Time
	head   bool
	detail string // Cache-Status detail, e.g. a cache error
	found  entry  // the entry lookup returns a pointer to (saves an allocation per hit)
}

// RoundTrip answers req from the cache when RFC 9111 and the request's mode
// allow it, and otherwise from the upstream RoundTripper, storing what may
// be stored. It returns an error only when the upstream fails and no stored
// response may be served instead; cache errors never fail a request.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNilURL
	}
	if req.Method == "" { // net/http: an empty method means GET
		req = req.WithContext(req.Context())
		req.Method = http.MethodGet
	}
	mode := t.modeFor(req)
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.passThrough(req, mode)
	}
	if mode == ModeNoStore {
		return t.forward(req, status{fwd: fwdBypass})
	}
	c := &call{t: t, req: req, mode: mode, now: t.opts.now(), head: req.Method == http.MethodHead}
	if len(req.Header["Cache-Control"]) > 0 || len(req.Header["Pragma"]) > 0 {
		c.dirs = tiercache.ParseRequestDirectives(req.Header)
	}
	c.key = t.primaryKey(req)
	if !mode.readsCache() || originConditional(req) {
		if c.onlyIfCached() { // §5.2.1.7: never contact the origin
			return c.gatewayTimeout(status{fwd: fwdRequest, detail: "only-if-cached"}), nil
		}
		return c.fetch(status{fwd: fwdRequest}, c.headTarget(), nil)
	}
	e, fwd := c.lookup()
	if e == nil {
		if c.onlyIfCached() {
			return c.gatewayTimeout(status{detail: "only-if-cached"}), nil
		}
		return c.miss(fwd)
	}
	switch act, fwd := c.decide(e); act {
	case actFresh:
		return c.serve(e, status{hit: true}, c.now), nil
	case actStale:
		return c.serve(e, status{hit: true, detail: "stale"}, c.now), nil
	case actStaleRevalidate:
		if !c.onlyIfCached() { // §5.2.1.7: not even in the background
			t.refresh(c, e)
		}
		return c.serve(e, status{hit: true, detail: "stale-while-revalidate"}, c.now), nil
	default:
		if c.onlyIfCached() {
			return c.gatewayTimeout(status{detail: "only-if-cached"}), nil
		}
		return c.revalidate(e, fwd)
	}
}

// onlyIfCached reports whether the request forbids contacting the origin.
func (c *call) onlyIfCached() bool {
	return c.mode == ModeOnlyIfCached || c.dirs.OnlyIfCached
}

// forward sends req upstream and labels the response; nothing is stored.
func (t *Transport) forward(req *http.Request, st status) (*http.Response, error) {
	resp, err := t.opts.upstream.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.setStatus(resp.Header, st)
	return resp, nil
}

// ctx returns the context for cache operations of c: the request's values
// without its cancellation, so that a store finishing after the caller
// returned still completes.
func (c *call) ctx() context.Context { return context.WithoutCancel(c.req.Context()) }

// report passes a recovered cache error to the ErrorHook.
func (t *Transport) report(req *http.Request, op, key string, err error) {
	if t.opts.onError != nil {
		t.opts.onError(req, fmt.Errorf("%w: %s %q: %w", ErrCache, op, key, err))
	}
}

// policy builds the policy of resp, the response to the call's request,
// received at respTime for a request sent at reqTime.
func (c *call) policy(resp *http.Response, reqTime, respTime time.Time) *tiercache.Policy {
	return c.policyFor(c.req, resp, reqTime, respTime)
}

// policyFor builds the policy of resp as the response to req. In
// ModeIgnoreRules a 200 response gets a TTL policy that still records its
// Vary (tiercache.NewTTLPolicyFor).
func (c *call) policyFor(req *http.Request, resp *http.Response, reqTime, respTime time.Time) *tiercache.Policy {
	if c.mode == ModeIgnoreRules && resp.StatusCode == http.StatusOK {
		return tiercache.NewTTLPolicyFor(c.t.ignoreTTL, req, resp, tiercache.WithNow(respTime),
			tiercache.WithMaxTTL(c.t.ignoreTTL), tiercache.WithShared(c.t.opts.shared))
	}
	n := len(c.t.polOpts)
	opts := append(c.t.polOpts[:n:n], tiercache.WithNow(respTime), tiercache.WithRequestTime(reqTime))
	return tiercache.NewPolicy(req, resp, opts...)
}
