package httpcache

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/tiercache/tiercache"
)

// captureResult is how a captured body ended.
type captureResult uint8

const (
	captured   captureResult = iota // read completely, within the limit
	tooLarge                        // outgrew the size limit
	incomplete                      // abandoned, failed, or not its Content-Length
)

// captureBody streams a response body to the caller while keeping a copy.
// When the caller has read it completely (io.EOF after exactly
// Content-Length bytes when it is known, or Close after exactly
// Content-Length bytes) and it stayed within the size limit, done receives
// the bytes and captured; when the caller abandons it (Close earlier), a
// read fails, or it outgrows the limit, done receives nil and why. done is
// called once, outside the lock, on the goroutine of the final Read or
// Close. Read and Close may be called concurrently.
type captureBody struct {
	rc     io.ReadCloser
	limit  int64
	want   int64 // Content-Length, or -1 when unknown
	done   func(body []byte, res captureResult)
	origin *atomic.Uint64    // counts the bytes read, when not nil
	pol    *tiercache.Policy // the policy it is stored with (Metadata)

	mu       sync.Mutex
	buf      []byte
	finished bool
}

func newCaptureBody(rc io.ReadCloser, contentLength, limit int64, done func([]byte, captureResult)) *captureBody {
	b := &captureBody{rc: rc, limit: limit, want: contentLength, done: done}
	if contentLength > 0 && contentLength <= limit {
		b.buf = make([]byte, 0, contentLength)
	}
	return b
}

// Read reads from the origin's body and keeps what it read.
func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.origin != nil && n > 0 {
		b.origin.Add(uint64(n))
	}
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return n, err
	}
	if n > 0 && int64(len(b.buf)+n) <= b.limit {
		b.buf = append(b.buf, p[:n]...)
	} else if n > 0 {
		b.finishLocked(tooLarge)
		return n, err
	}
	switch {
	case err == io.EOF:
		// A body that ends before or after its Content-Length is not
		// the response the stored header describes.
		b.finishLocked(b.result(b.want < 0 || int64(len(b.buf)) == b.want))
	case err != nil:
		b.finishLocked(incomplete)
	default:
		b.mu.Unlock()
	}
	return n, err
}

// Close closes the origin's body; an unfinished body is not stored unless
// exactly Content-Length bytes were read.
func (b *captureBody) Close() error {
	err := b.rc.Close()
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return err
	}
	b.finishLocked(b.result(b.want >= 0 && int64(len(b.buf)) == b.want))
	return err
}

func (b *captureBody) result(complete bool) captureResult {
	if complete {
		return captured
	}
	return incomplete
}

// finishLocked ends the capture; it releases b.mu before calling done.
func (b *captureBody) finishLocked(res captureResult) {
	b.finished = true
	body := b.buf
	b.buf = nil
	b.mu.Unlock()
	if res != captured {
		body = nil
	}
	b.done(body, res)
}

// countingBody counts the bytes read from a body the Transport does not
// capture.
type countingBody struct {
	io.ReadCloser
	n *atomic.Uint64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n.Add(uint64(n))
	}
	return n, err
}
