package tiercache_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tiercache/tiercache"
)

// closeCounter is a response body that counts its Close calls and can fail
// after n bytes.
type closeCounter struct {
	r      io.Reader
	closed int
}

func (c *closeCounter) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *closeCounter) Close() error               { c.closed++; return nil }

var errRead = errors.New("connection reset")

func httpResponse(body io.Reader, contentLength int64) (*http.Response, *closeCounter) {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/page?q=1", nil)
	cc := &closeCounter{r: body}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Cache-Control": {"max-age=60"}},
		Body: cc, ContentLength: contentLength, Request: req,
	}, cc
}

// TestNewResponse: the Response holds status, header, URL and body; the
// http.Response stays usable (its body reads again, closing it closes the
// original); bodies over the limit give ErrTooLarge and are given back
// whole.
func TestNewResponse(t *testing.T) {
	const body = "hello, world"
	tests := []struct {
		name     string
		body     io.Reader
		length   int64
		max      int64
		wantErr  error
		wantBody string // what resp.Body reads afterwards
	}{
		{"known length", strings.NewReader(body), int64(len(body)), 100, nil, body},
		{"unknown length", strings.NewReader(body), -1, 100, nil, body},
		{"exactly the limit", strings.NewReader(body), -1, int64(len(body)), nil, body},
		{"default limit", strings.NewReader(body), -1, 0, nil, body},
		{"too large by Content-Length", strings.NewReader(body), int64(len(body)), 5, tiercache.ErrTooLarge, body},
		{"too large while read", strings.NewReader(body), -1, 5, tiercache.ErrTooLarge, body},
		{"read error", io.MultiReader(strings.NewReader("hel"), iotestErr{}), -1, 100, errRead, "hel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, orig := httpResponse(tc.body, tc.length)
			r, err := tiercache.NewResponse(resp, tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			rest, rerr := io.ReadAll(resp.Body)
			if string(rest) != tc.wantBody || (rerr != nil) != (tc.wantErr == errRead) {
				t.Fatalf("resp.Body afterwards reads %q, %v; want %q", rest, rerr, tc.wantBody)
			}
			if err := resp.Body.Close(); err != nil || orig.closed != 1 {
				t.Fatalf("closing resp.Body: %v, original closed %d times", err, orig.closed)
			}
			if tc.wantErr != nil {
				return
			}
			if r.Status != 200 || string(r.Body) != body || r.URL != "https://example.com/page?q=1" ||
				r.Header.Get("Cache-Control") != "max-age=60" {
				t.Fatalf("Response = %+v", r)
			}
			resp.Header.Set("Cache-Control", "no-store")
			if r.Header.Get("Cache-Control") != "max-age=60" {
				t.Fatal("the Response's Header aliases resp.Header")
			}
		})
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errRead }

func TestNewResponseNoBody(t *testing.T) {
	for _, b := range []io.ReadCloser{nil, http.NoBody} {
		r, err := tiercache.NewResponse(&http.Response{StatusCode: 204, Body: b}, 0)
		if err != nil || r.Status != 204 || len(r.Body) != 0 || r.URL != "" {
			t.Fatalf("NewResponse with body %v = %+v, %v", b, r, err)
		}
	}
	if r, err := tiercache.NewResponse(&http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(nil))}, 0); err != nil || r.Body != nil {
		t.Fatalf("empty body: %+v, %v", r, err)
	}
}
