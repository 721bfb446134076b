package httpcache

import (
	"io"
	"sync"
)

// captureBody streams a response body to the caller while keeping a copy.
// When the caller has read it completely (io.EOF after exactly
// Content-Length bytes when it is known, or Close after exactly
// Content-Length bytes) and it stayed within the size limit, done receives
// the bytes and true; when the caller abandons it (Close earlier), a read
// fails, or it outgrows the limit, done receives nil and false. done is
// called once, outside the lock, on the goroutine of the final Read or
// Close. Read and Close may be called concurrently.
type captureBody struct {
	rc    io.ReadCloser
	limit int64
	want  int64 // Content-Length, or -1 when unknown
	done  func(body []byte, ok bool)

	mu       sync.Mutex
	buf      []byte
	finished bool
}

func newCaptureBody(rc io.ReadCloser, contentLength, limit int64, done func([]byte, bool)) *captureBody {
	b := &captureBody{rc: rc, limit: limit, want: contentLength, done: done}
	if contentLength > 0 && contentLength <= limit {
		b.buf = make([]byte, 0, contentLength)
	}
	return b
}

// Read reads from the origin's body and keeps what it read.
func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return n, err
	}
	if n > 0 && int64(len(b.buf)+n) <= b.limit {
		b.buf = append(b.buf, p[:n]...)
	} else if n > 0 {
		b.finishLocked(false)
		return n, err
	}
	switch {
	case err == io.EOF:
		// A body that ends before or after its Content-Length is not
		// the response the stored header describes.
		b.finishLocked(b.want < 0 || int64(len(b.buf)) == b.want)
	case err != nil:
		b.finishLocked(false)
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
	b.finishLocked(b.want >= 0 && int64(len(b.buf)) == b.want)
	return err
}

// finishLocked ends the capture; it releases b.mu before calling done.
func (b *captureBody) finishLocked(ok bool) {
	b.finished = true
	body := b.buf
	b.buf = nil
	b.mu.Unlock()
	if !ok {
		body = nil
	}
	b.done(body, ok)
}
