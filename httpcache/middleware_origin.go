package httpcache

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// handlerOrigin is the origin of a Middleware's call: the wrapped handler,
// run once per request the rules engine sends (call.send), each run on its
// own goroutine so that its writes can be handed to the engine as they are
// made, as an *http.Response whose Body reads them (handlerWriter, pipe).
// Runs of one call are sequential: a run starts once the previous one has
// returned. respond writes the engine's answer to the client and waits for
// the last run.
type handlerOrigin struct {
	c    *call
	next http.Handler
	w    http.ResponseWriter // the client's; nil for a background revalidation
	orig *http.Request       // the server request; nil in the background
	abs  *http.Request       // its absolute-URL copy, the call's request

	cur      *handlerRun // the last run
	early    any         // the panic of a run before it wrote its header
	hasEarly bool
	placed   *http.Response // a response served from the cache whose Header is w's own
}

// errHandlerPanic ends the body of a run whose handler panicked, and is
// what send returns for a run that panicked before writing its header.
var errHandlerPanic = errors.New("httpcache: handler panicked")

// background returns the origin of bc, a background revalidation of o's
// request: the same handler, no client.
func (o *handlerOrigin) background(bc *call) *handlerOrigin {
	if o == nil {
		return nil
	}
	return &handlerOrigin{c: bc, next: o.next}
}

// request returns the request to give the handler for req, a request of
// the engine: the server request itself for the call's own request, else a
// copy of req with the server request's URL (the handler sees the request
// target it was sent, not the absolute URL keys are made of).
func (o *handlerOrigin) request(req *http.Request) *http.Request {
	if req == o.abs && o.orig != nil {
		return o.orig
	}
	r := req.WithContext(req.Context())
	if o.orig != nil {
		r.URL, r.RequestURI = o.orig.URL, o.orig.RequestURI
	} else { // background: the server request is gone
		u := *req.URL
		u.Scheme, u.Host = "", ""
		r.URL, r.RequestURI, r.Body = &u, u.RequestURI(), http.NoBody
	}
	return r
}

// run runs the handler for req and returns its response once the handler
// has written its header (or returned, or flushed); the body streams as it
// writes it. A handler that panics before writing its header gives
// errHandlerPanic.
func (o *handlerOrigin) run(req *http.Request) (*http.Response, error) {
	if o.cur != nil {
		<-o.cur.done
		o.reportDiscarded(o.cur)
	}
	rn := newHandlerRun(o, o.request(req))
	o.cur = rn
	go rn.serve(o.next)
	<-rn.ready
	if rn.resp != nil && !bodyAllowed(rn.resp.StatusCode) {
		// No body can follow (204, 304): the response is complete when
		// the handler returns, which a panic must still be able to undo.
		<-rn.done
		if rn.panicked {
			rn.resp = nil
		} else {
			rn.resp.Body = http.NoBody
		}
	}
	if rn.resp == nil {
		if o.w != nil { // respond raises it again; a background run reports it (finish)
			o.early, o.hasEarly = rn.panicVal, true
			rn.reported = true
		}
		return nil, errHandlerPanic
	}
	return rn.resp, nil
}

// reportDiscarded reports the panic of a finished run whose response the
// client does not get (a 304, a 5xx answered stale, a background run).
func (o *handlerOrigin) reportDiscarded(rn *handlerRun) {
	if rn.panicked && !rn.reported {
		rn.reported = true
		o.c.reportPanic(rn.panicVal)
	}
}

// finish waits for the last run of a background revalidation and reports
// its panic, if any.
func (o *handlerOrigin) finish() {
	if o != nil && o.cur != nil {
		<-o.cur.done
		o.reportDiscarded(o.cur)
	}
}

// wait waits for the last run to return.
func (o *handlerOrigin) wait() {
	if o != nil && o.cur != nil {
		<-o.cur.done
	}
}

// respond writes the engine's answer to the client, waits for the last run
// to return, and raises again the panic of a run whose response (or lack
// of one) the client would otherwise get.
func (o *handlerOrigin) respond(c *call, resp *http.Response, err error) {
	if o.hasEarly {
		o.wait()
		panic(o.early) // the engine may have answered stale: the handler failed first
	}
	if err != nil {
		o.wait()
		c.t.unavailable(c, o.w)
		return
	}
	served := o.cur != nil && resp == o.cur.resp
	h := o.w.Header()
	if resp != o.placed {
		for k, vs := range resp.Header {
			h[k] = vs
		}
	}
	_, captured := resp.Body.(*captureBody)
	if captured && c.t.opts.cacheStatus {
		// The final Cache-Status member (stored) comes as a trailer once
		// the body has been taken (sent when the body is chunked).
		h["Trailer"] = append(h["Trailer"][:len(h["Trailer"]):len(h["Trailer"])], "Cache-Status")
	}
	if !served && resp.ContentLength >= 0 && len(h["Content-Length"]) == 0 && bodyAllowed(resp.StatusCode) {
		h["Content-Length"] = []string{itoa(resp.ContentLength)} // a HEAD from the cache says the GET's length
	}
	o.w.WriteHeader(resp.StatusCode)
	if resp.Body != nil {
		if served {
			o.copyRun(resp)
		} else {
			_, _ = io.Copy(o.w, resp.Body)
		}
		resp.Body.Close()
	}
	setTrailers(h, resp.Trailer)
	o.wait()
	if rn := o.cur; rn != nil && served && rn.panicked && !rn.reported {
		rn.reported = true
		panic(rn.panicVal)
	}
	if o.cur != nil {
		o.reportDiscarded(o.cur)
	}
}

// setTrailers sets the trailers tr in the client's header h after the
// body: the fields the header announced (Trailer) directly, the others
// with http.TrailerPrefix. An announced field without a value is removed,
// so that the header's own value is not sent again as a trailer.
func setTrailers(h, tr http.Header) {
	announced := map[string]bool{}
	for _, line := range h["Trailer"] {
		for n := range strings.SplitSeq(line, ",") {
			if n = strings.TrimSpace(n); n != "" {
				announced[http.CanonicalHeaderKey(n)] = true
			}
		}
	}
	for k := range announced {
		if vs := tr[k]; len(vs) > 0 {
			h[k] = vs
		} else {
			delete(h, k)
		}
	}
	for k, vs := range tr {
		if !announced[k] && len(vs) > 0 {
			h[http.TrailerPrefix+k] = vs
		}
	}
}

// copyBufs holds the buffers respond copies handler output with.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyRun copies the body of the served run to the client, flushing when
// the handler flushed. It stops when the client is gone (the handler's
// next write then fails).
func (o *handlerOrigin) copyRun(resp *http.Response) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf, p := *bp, &o.cur.pipe
	var rc *http.ResponseController
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := o.w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if p.flushWanted() {
			if rc == nil {
				rc = http.NewResponseController(o.w)
			}
			_ = rc.Flush()
			p.ackFlush()
		}
		if err != nil {
			return
		}
	}
}

// reportPanic reports a recovered panic of a handler run the client did
// not get, wrapping tiercache.ErrPanic.
func (c *call) reportPanic(v any) {
	if v == http.ErrAbortHandler {
		return
	}
	t := c.t
	t.stats.panics.Add(1)
	err := fmt.Errorf("httpcache: handler for %s: %w: %v", keyfmt.Quote(storedURL(c.req)), tiercache.ErrPanic, v)
	t.log.Warn("panic", "httpcache: recovered panic", "err", err)
	if t.opts.onError != nil {
		t.opts.onError(c.req, err)
	}
}
