package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// ErrCache is wrapped by the errors passed to the ErrorHook for cache
// operations: a Get, Put or Delete of the Manager failed and the Transport
// carried on without it. (A panic recovered in a background revalidation
// is reported wrapping tiercache.ErrPanic instead.)
var ErrCache = errors.New("httpcache: cache operation failed")

var errNilURL = errors.New("httpcache: nil Request.URL")

// Transport is an RFC 9111 caching http.RoundTripper over a
// tiercache.Manager. It is safe for concurrent use. See the package
// documentation for what it stores and how it serves.
//
// A fresh hit costs one or two Manager Gets (two when the response varies),
// a copy of the stored header map (the map and one array for all its
// values, Age and Cache-Status included), two atomic counter adds and
// about nine allocations in all with DefaultKey; the stored body is never
// copied. A Transport that served stale-while-revalidate responses may have
// background revalidations running: Close waits for them.
//
// The rules engine is the call type: it reaches the origin only through
// call.send and reports what it did through the Cache-Status member and
// the counters, so it can serve a RoundTripper (this type) and a handler
// alike.
type Transport struct {
	m         tiercache.Manager
	opts      options
	polOpts   []tiercache.PolicyOption // shared, must-understand, max TTL, stale grace; times are added per call
	ignoreTTL time.Duration            // the lifetime ModeIgnoreRules gives
	flights   flights
	bg        background
	stats     *counters
	log       *ratelog.Logger
	purge     *purger // nil without WithPurge
	closeBus  sync.Once
	stripTags bool // remove the tag fields from returned responses
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns a Transport that caches the responses of its upstream
// RoundTripper (WithTransport, default http.DefaultTransport) in m.
func New(m tiercache.Manager, opts ...Option) *Transport {
	t := &Transport{m: m, opts: newOptions(opts), stats: newCounters()}
	t.polOpts = []tiercache.PolicyOption{tiercache.WithShared(t.opts.shared), tiercache.WithMustUnderstand(true)}
	t.ignoreTTL = DefaultIgnoreRulesTTL
	if t.opts.maxTTL > 0 {
		t.polOpts = append(t.polOpts, tiercache.WithMaxTTL(t.opts.maxTTL))
		t.ignoreTTL = t.opts.maxTTL
	}
	if t.opts.staleGrace > 0 {
		t.polOpts = append(t.polOpts, tiercache.WithStaleGrace(t.opts.staleGrace))
	}
	t.log = ratelog.New(t.opts.logger, 0)
	t.bg.init(t.opts.maxBackground)
	if t.opts.purge {
		t.purge = newPurger(t, m)
		t.stripTags = !t.opts.keepTags
		t.purge.bus = newPurgeBus(t.purge, t.opts.bus)
	}
	return t
}

// Close stops background revalidations (stale-while-revalidate) and waits
// for those running to end, and closes the purge bus subscription
// (WithBus). The Transport keeps serving requests afterwards but starts no
// more background work. Close is idempotent and returns nil.
func (t *Transport) Close() error {
	t.bg.close()
	if t.purge != nil {
		t.closeBus.Do(t.purge.bus.close)
	}
	return nil
}

// CloseIdleConnections closes the idle connections of the upstream
// RoundTripper when it has such a method (as *http.Transport does), so
// that http.Client.CloseIdleConnections reaches through the cache.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.opts.upstream.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// call is the state of one RoundTrip through the cache, or of one
// background revalidation.
type call struct {
	t          *Transport
	req        *http.Request
	dirs       tiercache.RequestDirectives
	key        string // primary key
	now        time.Time
	mode       Mode
	head       bool
	background bool           // a background revalidation: counted apart, no caller
	failed     bool           // the origin failed (no answer, or a 5xx served stale)
	failedCode int16          // the status of that 5xx
	detail     string         // Cache-Status detail, e.g. a cache error
	shard      *statsShard    // counters of this call
	found      entry          // the entry lookup returns a pointer to (saves an allocation per hit)
	ho         *handlerOrigin // the wrapped handler, for a Middleware; nil: the upstream RoundTripper
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
	c := &call{t: t, req: req, mode: t.modeFor(req), shard: t.stats.shard()}
	resp, err := c.roundTrip()
	if err != nil {
		c.shard.count(outOriginError)
	}
	return resp, err
}

func (c *call) roundTrip() (*http.Response, error) {
	req := c.req
	if safeMethod(req.Method) {
		c.bust()
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return c.passThrough()
	}
	if c.mode == ModeNoStore {
		return c.forward(status{fwd: fwdBypass, outcome: outBypass})
	}
	c.now, c.head = c.t.opts.now(), req.Method == http.MethodHead
	if len(req.Header["Cache-Control"]) > 0 || len(req.Header["Pragma"]) > 0 {
		c.dirs = tiercache.ParseRequestDirectives(req.Header)
	}
	c.key = c.t.primaryKey(req)
	if !c.mode.readsCache() || originConditional(req, c.head) {
		if c.onlyIfCached() { // §5.2.1.7: never contact the origin
			return c.gatewayTimeout(status{fwd: fwdRequest, detail: "only-if-cached", outcome: outMiss}), nil
		}
		return c.fetch(status{fwd: fwdRequest, outcome: outBypass}, c.headTarget(), nil)
	}
	e, fwd := c.lookup()
	if e == nil {
		if c.onlyIfCached() {
			return c.gatewayTimeout(status{detail: "only-if-cached", outcome: outMiss}), nil
		}
		return c.miss(fwd)
	}
	return c.answer(e)
}

// answer serves the stored response e, or validates it, or forwards the
// request, as decide and the request's Range say.
func (c *call) answer(e *entry) (*http.Response, error) {
	act, fwd := c.decide(e)
	if _, _, ranged, ok := c.byteRange(e); ranged && !ok {
		act, fwd = actForward, fwdRequest // an unsatisfiable range: the origin answers it
	}
	switch act {
	case actFresh:
		return c.serve(e, status{hit: true, outcome: outHit}, c.now), nil
	case actStale:
		return c.serve(e, status{hit: true, detail: "stale", outcome: outStaleHit}, c.now), nil
	case actStaleRevalidate:
		if !c.onlyIfCached() { // §5.2.1.7: not even in the background
			c.t.refresh(c, e)
		}
		return c.serve(e, status{hit: true, detail: "stale-while-revalidate", outcome: outStaleHit}, c.now), nil
	}
	if c.onlyIfCached() {
		return c.gatewayTimeout(status{detail: "only-if-cached", outcome: outMiss}), nil
	}
	if act == actForward || !c.head && len(c.req.Header["Range"]) > 0 {
		return c.fetch(status{fwd: fwd, outcome: outMiss}, nil, nil) // a range is not validated: forwarded
	}
	return c.revalidate(e, fwd)
}

// onlyIfCached reports whether the request forbids contacting the origin.
func (c *call) onlyIfCached() bool {
	return c.mode == ModeOnlyIfCached || c.dirs.OnlyIfCached
}

// send sends req to the origin: the upstream RoundTripper of a Transport,
// or the wrapped handler of a Middleware (middleware_origin.go). It is the
// only way the rules engine reaches the origin; it consults the rate
// limiter first and times every request for Stats.OriginLatency.
func (c *call) send(req *http.Request) (*http.Response, error) {
	if err := c.t.waitRate(req); err != nil {
		return nil, err
	}
	start := time.Now()
	var resp *http.Response
	var err error
	if c.ho != nil {
		resp, err = c.ho.run(req)
	} else {
		resp, err = c.t.opts.upstream.RoundTrip(req)
	}
	c.t.stats.observe(start)
	return resp, err
}

// waitRate consults the rate limiter (WithRateLimiter) for a request to
// the origin.
func (t *Transport) waitRate(req *http.Request) error {
	if t.opts.limiter == nil {
		return nil
	}
	if err := t.opts.limiter.Wait(req.Context(), req); err != nil {
		t.stats.limited.Add(1)
		return fmt.Errorf("httpcache: rate limiter: %w", err)
	}
	return nil
}

// forward sends the request upstream and labels the response; nothing is
// stored.
func (c *call) forward(st status) (*http.Response, error) {
	resp, err := c.send(c.req)
	if err != nil {
		return nil, err
	}
	c.label(resp, st)
	return resp, nil
}

// label sets the Cache-Status member st on a response from the origin,
// removes the tag fields (WithPurge), counts its outcome and counts the
// body bytes the caller reads.
func (c *call) label(resp *http.Response, st status) {
	c.t.stripTagFields(resp.Header)
	c.t.setStatus(resp.Header, c.withDetail(st))
	if c.background {
		return
	}
	c.shard.count(st.outcome)
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	if b, ok := resp.Body.(*captureBody); ok {
		b.origin = &c.shard.bytesOrigin
		return
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.shard.bytesOrigin}
}

// ctx returns the context for cache operations of c: the request's values
// without its cancellation, so that a store finishing after the caller
// returned still completes.
func (c *call) ctx() context.Context { return context.WithoutCancel(c.req.Context()) }

// report passes a recovered cache error to the ErrorHook.
func (t *Transport) report(req *http.Request, op, key string, err error) {
	if t.opts.onError != nil {
		t.opts.onError(req, fmt.Errorf("%w: %s %s: %w", ErrCache, op, keyfmt.Quote(key), err))
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
	return c.policyIn(c.mode == ModeIgnoreRules, req, resp, reqTime, respTime)
}

// policyIn builds the policy of resp as the response to req; forced gives
// a 200 response the TTL policy of ModeIgnoreRules.
func (c *call) policyIn(forced bool, req *http.Request, resp *http.Response, reqTime, respTime time.Time) *tiercache.Policy {
	if forced && resp.StatusCode == http.StatusOK {
		return tiercache.NewTTLPolicyFor(c.t.ignoreTTL, req, resp, tiercache.WithNow(respTime),
			tiercache.WithMaxTTL(c.t.ignoreTTL), tiercache.WithShared(c.t.opts.shared))
	}
	n := len(c.t.polOpts)
	opts := append(c.t.polOpts[:n:n], tiercache.WithNow(respTime), tiercache.WithRequestTime(reqTime))
	return tiercache.NewPolicy(req, resp, opts...)
}
