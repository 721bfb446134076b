package httpcache

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// handlerRun is one run of a Middleware's handler. Its handlerWriter turns
// the handler's writes into an *http.Response: the header when the
// handler writes it (or first writes, flushes or returns), and a Body (the
// pipe) that reads each write as it is made.
type handlerRun struct {
	o    *handlerOrigin
	req  *http.Request
	pipe pipe
	hw   handlerWriter

	ready chan struct{} // closed when resp is set, or the handler panicked first
	done  chan struct{} // closed when the handler returned or panicked
	resp  *http.Response

	panicked bool // set before done is closed
	panicVal any
	reported bool // the panic was raised again or reported (the call's goroutine only)
}

func newHandlerRun(o *handlerOrigin, req *http.Request) *handlerRun {
	rn := &handlerRun{o: o, req: req, ready: make(chan struct{}), done: make(chan struct{})}
	rn.pipe.init()
	rn.hw = handlerWriter{rn: rn, header: http.Header{}}
	return rn
}

// serve runs the handler on the run's goroutine. A panic is recovered and
// recorded: it ends the body with errHandlerPanic, and the call's goroutine
// raises it again or reports it.
func (rn *handlerRun) serve(next http.Handler) {
	defer close(rn.done)
	defer func() {
		if v := recover(); v != nil {
			rn.panicked, rn.panicVal = true, v
			rn.pipe.closeWrite(errHandlerPanic, nil)
			if rn.hw.code == 0 {
				rn.hw.code = -1
				close(rn.ready)
			}
		}
	}()
	next.ServeHTTP(&rn.hw, rn.req)
	rn.hw.finish()
}

// errResponseGone is what a handler's Write gets once the cache no longer
// reads its response: the client went away, or the cache answered with
// another response (a stored one after a 304, a stale one after a 5xx).
var errResponseGone = errors.New("httpcache: the response is no longer read")

// errNoHijack is Hijack's error: a response the cache captures cannot be
// taken over (protocol upgrades reach the handler with the connection's
// own ResponseWriter).
var errNoHijack = errors.New("httpcache: cannot hijack a response the cache is capturing")

// handlerWriter is the http.ResponseWriter of a handler run. It is used by
// the handler's goroutine only, as a ResponseWriter is.
type handlerWriter struct {
	rn       *handlerRun
	header   http.Header
	code     int      // the status written; 0 before, -1 after an early panic
	declared []string // the trailers the header announced
}

// Header returns the header the handler sets.
func (hw *handlerWriter) Header() http.Header { return hw.header }

// WriteHeader commits the response with status code. An informational
// status (1xx but 101) goes to the client at once with the current header,
// as net/http sends it.
func (hw *handlerWriter) WriteHeader(code int) {
	if hw.code != 0 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if w := hw.rn.o.w; w != nil { // the call's goroutine waits for the header: no race
			h := w.Header()
			for k, vs := range hw.header {
				h[k] = vs
			}
			w.WriteHeader(code)
		}
		return
	}
	hw.commit(code, nil)
}

// Write hands p to the cache, which streams it to the client.
func (hw *handlerWriter) Write(p []byte) (int, error) {
	if hw.code == 0 {
		hw.commit(http.StatusOK, p)
	}
	if !bodyAllowed(hw.code) {
		return 0, http.ErrBodyNotAllowed
	}
	return hw.rn.pipe.write(p)
}

// Flush commits the response and returns once what was written reached the
// client's connection (nothing more in a background revalidation).
func (hw *handlerWriter) Flush() { _ = hw.FlushError() }

// FlushError is Flush with its error, for http.ResponseController.
func (hw *handlerWriter) FlushError() error {
	if hw.code == 0 {
		hw.commit(http.StatusOK, nil)
	}
	if hw.rn.o.w == nil || !bodyAllowed(hw.code) {
		return nil // no client, or no body to flush (the header goes with the response)
	}
	return hw.rn.pipe.flush()
}

// Unwrap returns the client's ResponseWriter, so that
// http.ResponseController reaches it (deadlines); nil in a background
// revalidation or once the cache no longer reads this run.
func (hw *handlerWriter) Unwrap() http.ResponseWriter {
	if hw.rn.pipe.readerClosed() {
		return nil
	}
	return hw.rn.o.w
}

// Hijack is refused: the cache is reading the response.
func (hw *handlerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, errNoHijack }

// EnableFullDuplex enables it on the client's connection, which is only
// safe before the header is written (the request's goroutine is waiting
// for it then).
func (hw *handlerWriter) EnableFullDuplex() error {
	if hw.code != 0 || hw.rn.o.w == nil {
		return errors.New("httpcache: EnableFullDuplex after the header, or in a background revalidation")
	}
	return http.NewResponseController(hw.rn.o.w).EnableFullDuplex()
}

// commit builds the response from the header as it is now and hands it to
// the engine. Like net/http, it detects a missing Content-Type from the
// first write.
func (hw *handlerWriter) commit(code int, p []byte) {
	hw.code = code
	h := hw.header.Clone()
	if _, typed := h["Content-Type"]; !typed && len(p) > 0 && bodyAllowed(code) && h.Get("Content-Encoding") == "" && len(h["Transfer-Encoding"]) == 0 {
		h["Content-Type"] = []string{http.DetectContentType(p)}
	}
	rn := hw.rn
	rn.resp = &http.Response{
		Status: statusLine(code), StatusCode: code, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: &rn.pipe, ContentLength: contentLength(h), Request: rn.req,
	}
	rn.pipe.resp = rn.resp
	for _, name := range h.Values("Trailer") {
		for n := range strings.SplitSeq(name, ",") {
			if n = strings.TrimSpace(n); n != "" {
				if rn.resp.Trailer == nil {
					rn.resp.Trailer = http.Header{}
				}
				rn.resp.Trailer[http.CanonicalHeaderKey(n)] = nil
				hw.declared = append(hw.declared, http.CanonicalHeaderKey(n))
			}
		}
	}
	close(rn.ready)
}

// finish ends a run whose handler returned: it commits a response that was
// never written (200, empty), sets the trailers the handler declared or
// set with http.TrailerPrefix, and ends the body.
func (hw *handlerWriter) finish() {
	if hw.code == 0 {
		hw.commit(http.StatusOK, nil)
	}
	var trailer http.Header
	add := func(k string, vs []string) {
		if len(vs) > 0 {
			if trailer == nil {
				trailer = http.Header{}
			}
			trailer[k] = vs
		}
	}
	for _, k := range hw.declared { // the reader's goroutine owns resp.Trailer
		add(k, hw.header[k])
	}
	for k, vs := range hw.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			add(http.CanonicalHeaderKey(name), vs)
		}
	}
	hw.rn.pipe.closeWrite(io.EOF, trailer)
}

// contentLength parses a Content-Length field; -1 when absent or invalid.
func contentLength(h http.Header) int64 {
	v := h["Content-Length"]
	if len(v) != 1 {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// bodyAllowed reports whether a response with status code may have a body
// (RFC 9110 §6.4.1).
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// pipe hands the handler's writes to the reader of the response body, one
// at a time and without copying them: a Write returns once the reader has
// taken all of it. A Flush makes the next Read return (0, nil) with
// flushWanted true; the reader flushes the client and calls ackFlush (a
// reader that reads on instead acknowledges it too).
type pipe struct {
	mu       sync.Mutex
	cond     sync.Cond
	buf      []byte // the write being read
	flushReq bool   // a Flush waits
	flushOut bool   // a Read returned the flush; not acknowledged yet
	werr     error  // the end of the body: io.EOF, or errHandlerPanic
	rclosed  atomic.Bool
	resp     *http.Response // whose Body the pipe is
	trailer  http.Header    // the handler's trailers, moved to resp.Trailer by the Read that ends the body
}

func (p *pipe) init() { p.cond.L = &p.mu }

func (p *pipe) write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rclosed.Load() {
		return 0, errResponseGone
	}
	p.buf = b
	p.cond.Broadcast()
	for len(p.buf) > 0 && !p.rclosed.Load() {
		p.cond.Wait()
	}
	n := len(b) - len(p.buf)
	p.buf = nil
	if n < len(b) {
		return n, errResponseGone
	}
	return n, nil
}

func (p *pipe) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rclosed.Load() {
		return errResponseGone
	}
	p.flushReq = true
	p.cond.Broadcast()
	for p.flushReq && !p.rclosed.Load() {
		p.cond.Wait()
	}
	if p.flushReq {
		p.flushReq = false
		return errResponseGone
	}
	return nil
}

// Read reads the current write, or reports a flush, or the end.
func (p *pipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ackFlushLocked()
	for len(p.buf) == 0 && !p.flushReq && p.werr == nil && !p.rclosed.Load() {
		p.cond.Wait()
	}
	switch {
	case p.rclosed.Load():
		return 0, io.ErrClosedPipe
	case len(p.buf) > 0:
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		if len(p.buf) == 0 {
			p.cond.Broadcast()
		}
		return n, nil
	case p.flushReq:
		p.flushOut = true
		return 0, nil
	}
	if p.trailer != nil { // the reader's goroutine owns resp.Trailer
		if p.resp.Trailer == nil {
			p.resp.Trailer = http.Header{}
		}
		for k, vs := range p.trailer {
			p.resp.Trailer[k] = vs
		}
		p.trailer = nil
	}
	return 0, p.werr
}

// flushWanted reports that the last Read returned a flush.
func (p *pipe) flushWanted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushOut
}

// ackFlush acknowledges a flush: the waiting Flush returns.
func (p *pipe) ackFlush() {
	p.mu.Lock()
	p.ackFlushLocked()
	p.mu.Unlock()
}

func (p *pipe) ackFlushLocked() {
	if p.flushOut {
		p.flushOut, p.flushReq = false, false
		p.cond.Broadcast()
	}
}

// Close stops reading: the handler's writes and flushes fail from now on.
func (p *pipe) Close() error {
	p.mu.Lock()
	p.rclosed.Store(true)
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// closeWrite ends the body with err (io.EOF when the handler returned) and
// the handler's trailers.
func (p *pipe) closeWrite(err error, trailer http.Header) {
	p.mu.Lock()
	if p.werr == nil {
		p.werr, p.trailer = err, trailer
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *pipe) readerClosed() bool { return p.rclosed.Load() }
