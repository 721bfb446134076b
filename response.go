package tiercache

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxResponseBody is the body limit NewResponse applies when it is
// given none: 64 MiB, the default decoded-size limit of Compress too.
const DefaultMaxResponseBody = 64 << 20

// NewResponse returns a Response for Put holding resp's status, a clone of
// its header, the URL of its request (if any) and its whole body.
//
// It reads resp.Body to the end, at most maxBody bytes
// (DefaultMaxResponseBody when maxBody <= 0), and puts back in resp.Body a
// reader of the same bytes, so that resp can still be used afterwards, for
// instance returned to a client; closing it closes the original body, which
// the caller still must do. A body longer than maxBody (known from
// Content-Length, or met while reading) is not read further: NewResponse
// returns an error wrapping ErrTooLarge, and resp.Body still yields the
// whole body (the bytes read, then the rest), so that a response too large
// to cache can still be passed on. An error reading the body is returned
// likewise, with the bytes read restored.
//
// The Response's Body holds the bytes read, which the restored resp.Body
// reads too: treat both as read-only. Its Header is a copy. resp must be
// non-nil; a nil Body is an empty one. It costs one read of the body into
// one allocation (of Content-Length, when known), and one header clone.
func NewResponse(resp *http.Response, maxBody int64) (*Response, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBody
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header.Clone()}
	if resp.Request != nil && resp.Request.URL != nil {
		r.URL = resp.Request.URL.String()
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		return r, nil
	}
	if resp.ContentLength > maxBody {
		return nil, fmt.Errorf("%w: response body of %d bytes (Content-Length) exceeds %d", ErrTooLarge, resp.ContentLength, maxBody)
	}
	orig := resp.Body
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(orig, maxBody+1))
	body := buf.Bytes()
	if err != nil || int64(len(body)) > maxBody {
		// Give the caller the whole body back: what was read, then the rest.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), orig), orig}
		if err != nil {
			return nil, fmt.Errorf("tiercache: reading the response body: %w", err)
		}
		return nil, fmt.Errorf("%w: response body exceeds %d bytes", ErrTooLarge, maxBody)
	}
	if len(body) > 0 {
		r.Body = body[:len(body):len(body)]
	}
	resp.Body = readCloser{bytes.NewReader(body), orig}
	return r, nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
