package httpcache

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/tiercache/tiercache"
)

// Middleware is an RFC 9111 shared cache in front of http.Handlers, the
// server-side counterpart of the Transport (what a CDN or Varnish does in
// front of an application), over any tiercache.Manager:
//
//	mw := httpcache.NewMiddleware(cache, httpcache.WithPurge(true))
//	defer mw.Close()
//	http.ListenAndServe(":8080", mw.Wrap(app)) // or r.Use(mw.Wrap) with chi
//
// It runs the Transport's rules engine, not a copy: everything the package
// documentation says of the Transport holds, with the wrapped handler as
// the origin (request directives, Vary, freshness, conditional requests
// answered with 304, HEAD from GET, Range, collapsing of concurrent misses,
// stale-while-revalidate refreshed by one background run of the handler,
// stale-if-error when the handler answers with a 5xx, Cache-Status, Age,
// Stats, the ErrorHook, the logger and every Option but WithTransport). It
// is a shared cache by default (WithShared(false) makes it private).
//
// Requests the cache never answers go straight to the handler, with the
// client's ResponseWriter wrapped only to label and count the response and,
// for unsafe methods, to invalidate (RFC 9111 §4.4) when the header is
// written: methods other than GET and HEAD, ModeNoStore requests, and
// protocol upgrades (which get the ResponseWriter itself). For the others
// the handler runs on its own goroutine with a ResponseWriter that hands
// each write to the request's goroutine as it is made (no buffering): the
// response streams to the client while a copy is kept, and is stored only
// when the handler returned normally, the client took all of it and it is
// within WithMaxBodySize (larger ones stream through untouched). Flush
// reaches the client; http.ResponseController works through Unwrap (write
// and read deadlines, EnableFullDuplex before the header is written; Hijack
// is refused). Trailers pass through, and the final Cache-Status member is
// sent as a trailer when the body was stored after the header went out.
//
// A panic in the handler is raised again on the request's goroutine (so
// net/http aborts the response as it would without the cache) and nothing is
// stored; a panic in a background revalidation, or in a run whose response
// the cache had already replaced (a 304, a 5xx answered stale), is
// recovered and reported wrapping tiercache.ErrPanic. A rate limiter refusal
// or an ended request context without a stored response to stand in gets
// 503.
//
// A Middleware is safe for concurrent use; Wrap may be called for several
// handlers, which then share the cache, its keys and its statistics (key by
// host or path, WithKeyFunc, when they serve the same URLs differently).
// Keys are computed on the absolute URL of the request: scheme https when
// it came over TLS, else http, and the Host header.
type Middleware struct {
	t *Transport
}

// NewMiddleware returns a Middleware caching the responses of the handlers
// it wraps in m. WithTransport has no effect; the other options apply as
// for New, with WithShared(true) unless given.
func NewMiddleware(m tiercache.Manager, opts ...Option) *Middleware {
	return &Middleware{t: New(m, append([]Option{WithShared(true)}, opts...)...)}
}

// Wrap returns next behind the cache, in the shape chi, alice and net/http
// middleware chains use (r.Use(mw.Wrap)).
func (mw *Middleware) Wrap(next http.Handler) http.Handler {
	return &cachedHandler{t: mw.t, next: next}
}

// Close stops background revalidations and waits for those running (and
// their handler runs) to end, and closes the purge bus subscription. The
// wrapped handlers keep serving afterwards. Close is idempotent.
func (mw *Middleware) Close() error { return mw.t.Close() }

// Stats returns a snapshot of the counters of every handler mw wraps (see
// Transport.Stats; the origin is the handler).
func (mw *Middleware) Stats() Stats { return mw.t.Stats() }

// PurgeTag makes every entry stored with tag unusable (see
// Transport.PurgeTag).
func (mw *Middleware) PurgeTag(ctx context.Context, tag string) error { return mw.t.PurgeTag(ctx, tag) }

// PurgeURL purges url as Transport.PurgeURL does and, since the scheme of a
// request's key depends on where TLS ends, the same URL with the other of
// http and https.
func (mw *Middleware) PurgeURL(ctx context.Context, url string) error {
	if err := mw.t.PurgeURL(ctx, url); err != nil {
		return err
	}
	if rest, ok := strings.CutPrefix(url, "https://"); ok {
		return mw.t.PurgeURL(ctx, "http://"+rest)
	}
	if rest, ok := strings.CutPrefix(url, "http://"); ok {
		return mw.t.PurgeURL(ctx, "https://"+rest)
	}
	return nil
}

// cachedHandler is one wrapped handler.
type cachedHandler struct {
	t    *Transport
	next http.Handler
}

// mwRequest is the state of one request through a Middleware, in one
// allocation: the call, its origin, and the absolute-URL copy of the
// server request that keys are made of (the handler is given the server
// request itself; see handlerOrigin.request).
type mwRequest struct {
	c   call
	ho  handlerOrigin
	req http.Request
	u   url.URL
}

// ServeHTTP answers r from the cache or from the wrapped handler.
func (h *cachedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := &mwRequest{}
	req := r
	if !r.URL.IsAbs() {
		s.u, s.req = *r.URL, *r
		s.u.Scheme, s.u.Host = "http", r.Host
		if r.TLS != nil {
			s.u.Scheme = "https"
		}
		s.req.URL, req = &s.u, &s.req
	}
	c := &s.c
	*c = call{t: h.t, req: req, mode: h.t.modeFor(req), shard: h.t.stats.shard()}
	switch {
	case isUpgrade(r):
		c.shard.count(outBypass)
		h.next.ServeHTTP(w, r)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead || c.mode == ModeNoStore:
		h.straight(c, w, r)
		return
	}
	s.ho = handlerOrigin{c: c, next: h.next, w: w, orig: r, abs: req}
	c.ho = &s.ho
	resp, err := c.roundTrip()
	if err != nil {
		c.shard.count(outOriginError)
	}
	c.ho.respond(c, resp, err)
}

// straight runs the handler on the client's ResponseWriter for a request
// the cache does not serve, labelling and counting the response and
// invalidating for an unsafe method when the header is written.
func (h *cachedHandler) straight(c *call, w http.ResponseWriter, r *http.Request) {
	if safeMethod(r.Method) {
		c.bust()
	}
	if err := h.t.waitRate(c.req); err != nil {
		c.shard.count(outOriginError)
		h.t.unavailable(c, w)
		return
	}
	sw := &straightWriter{ResponseWriter: w, onHeader: func(code int) {
		c.afterUnsafe(code, w.Header())
		h.t.stripTagFields(w.Header())
		st := c.passStatus()
		h.t.setStatus(w.Header(), st)
		c.shard.count(st.outcome)
	}}
	h.next.ServeHTTP(sw, r)
	sw.header(http.StatusOK) // a handler that wrote nothing answered 200
}

// unavailable answers 503 when no response can be had (a rate limiter
// refusal, or the request's context ended, with nothing stored to serve).
func (t *Transport) unavailable(c *call, w http.ResponseWriter) {
	t.setStatus(w.Header(), c.withDetail(status{detail: "origin-unavailable"}))
	http.Error(w, "httpcache: origin unavailable", http.StatusServiceUnavailable)
}

// isUpgrade reports a request for another protocol (WebSocket, h2c), which
// the handler must see with the connection's own ResponseWriter.
func isUpgrade(r *http.Request) bool {
	return len(r.Header["Upgrade"]) > 0
}

// straightWriter is the client's ResponseWriter with a hook run once, just
// before the header is written.
type straightWriter struct {
	http.ResponseWriter
	onHeader func(code int)
	done     bool
}

func (w *straightWriter) header(code int) {
	if !w.done {
		w.done = true
		w.onHeader(code)
	}
}

// WriteHeader runs the hook for a final status, then writes the header.
func (w *straightWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.header(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes the header (200) first if needed.
func (w *straightWriter) Write(p []byte) (int, error) {
	w.header(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Flush writes the header (200) first if needed, then flushes.
func (w *straightWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController, with its error.
func (w *straightWriter) FlushError() error {
	w.header(http.StatusOK)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the client's ResponseWriter, for http.ResponseController.
func (w *straightWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
