package httpcache

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rtFunc is an upstream RoundTripper made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeOrigin is an upstream RoundTripper (no network) answering with
// handler; it counts requests and records their keys (method, host, path).
type fakeOrigin struct {
	mu      sync.Mutex
	seen    []string
	handler func(r *http.Request, n int) *http.Response
}

func (o *fakeOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.seen = append(o.seen, r.Method+" "+r.Host+" "+r.URL.String())
	n := len(o.seen)
	o.mu.Unlock()
	resp := o.handler(r, n)
	resp.Request = r
	return resp, nil
}

func textResponse(code int, body string, hdr ...string) *http.Response {
	h := http.Header{}
	for _, kv := range hdr {
		k, v, _ := cut(kv)
		h.Add(k, v)
	}
	return &http.Response{
		StatusCode: code, Status: statusLine(code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
}

func readResp(t *testing.T, tr http.RoundTripper, req *http.Request) result {
	t.Helper()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return result{code: resp.StatusCode, body: string(b), header: resp.Header, trailer: resp.Trailer}
}

// A body that ends (io.EOF) before or after its Content-Length is
// incomplete or corrupt: it must not be stored, since the stored header
// would keep a Content-Length that does not match the stored body
// (RFC 9111 §3.3). A zero Content-Length with a body must not lose the
// body.
func TestReviewBodyLengthMismatchNotStored(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		cl     int64
		stored bool
	}{
		{"exact", "hello", 5, true},
		{"short", "hel", 5, false},
		{"long", "hello world", 5, false},
		{"unknown", "hello", -1, true},
		{"zero with body", "hello", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			m := newMemManager(clk.Now)
			up := rtFunc(func(r *http.Request) (*http.Response, error) {
				resp := textResponse(200, tc.body, "Cache-Control: max-age=60")
				resp.ContentLength = tc.cl
				if tc.cl >= 0 {
					resp.Header.Set("Content-Length", itoa(tc.cl))
				}
				return resp, nil
			})
			tr := New(m, WithClock(clk.Now), WithTransport(up))
			defer tr.Close()
			req, _ := http.NewRequest(http.MethodGet, "http://example.com/b", nil)
			r := readResp(t, tr, req)
			if r.body != tc.body {
				t.Fatalf("first response body %q, want %q", r.body, tc.body)
			}
			if stored := m.len() == 1; stored != tc.stored {
				t.Fatalf("stored = %v, want %v", stored, tc.stored)
			}
		})
	}
}

// RFC 9111 §3.2: a 304 must not update header fields the stored response
// depends upon. http.Transport decodes a gzip response it asked for itself
// and drops Content-Encoding, so the stored body is decoded; a 304 (whose
// header the transport does not process) carrying Content-Encoding: gzip
// must not label the decoded body as gzip. (Transport only: a handler
// hands over the bytes it writes, encoded or not.)
func TestReview304KeepsContentEncoding(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("ETag", `"e1"`)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		gz := gzip.NewWriter(w)
		io.WriteString(gz, "hello")
		gz.Close()
	})
	expect(t, e.get("/z"), 200, "hello", "tiercache; fwd=uri-miss; stored")
	e.clk.Advance(20 * time.Second)
	r := e.get("/z")
	expect(t, r, 200, "hello", "tiercache; fwd=stale; fwd-status=304")
	if ce := r.header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("decoded body served with Content-Encoding %q after a 304", ce)
	}
	r = e.get("/z")
	expect(t, r, 200, "hello", "tiercache; hit")
	if ce := r.header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("decoded body served with Content-Encoding %q from the cache", ce)
	}
}

// Requests to one URL with different Host overrides (name-based virtual
// hosts behind one address) reach different resources: DefaultKey must
// tell them apart. Host names are case-insensitive and an explicit default
// port is the same origin (RFC 9110 §4.2.3), so invalidation through a
// Location that spells the host differently still finds the entry.
func TestReviewKeyHostAndInvalidation(t *testing.T) {
	o := &fakeOrigin{handler: func(r *http.Request, n int) *http.Response {
		if r.Method == http.MethodPost {
			return textResponse(http.StatusCreated, "", "Location: HTTP://EXAMPLE.com:80/a")
		}
		return textResponse(200, r.Host+"#"+itoa(int64(n)), "Cache-Control: max-age=60")
	}}
	clk := newFakeClock()
	tr := New(newMemManager(clk.Now), WithClock(clk.Now), WithTransport(o))
	defer tr.Close()
	do := func(method, url, host string) result {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		if host != "" {
			req.Host = host
		}
		return readResp(t, tr, req)
	}
	steps := []struct {
		method, url, host, body string
	}{
		{"GET", "http://10.0.0.1/a", "a.example", "a.example#1"},
		{"GET", "http://10.0.0.1/a", "b.example", "b.example#2"},
		{"GET", "http://10.0.0.1/a", "a.example", "a.example#1"},
		{"GET", "http://10.0.0.1/a", "", "10.0.0.1#3"},
		{"GET", "http://example.com/a", "", "example.com#4"},
		{"GET", "http://Example.COM:80/a", "", "example.com#4"}, // same resource
		{"POST", "http://example.com/b", "", ""},
		{"GET", "http://example.com/a", "", "example.com#6"}, // invalidated via Location
	}
	for i, s := range steps {
		if r := do(s.method, s.url, s.host); r.body != s.body {
			t.Fatalf("step %d: %s %s Host %q: body %q, want %q", i, s.method, s.url, s.host, r.body, s.body)
		}
	}
}

// A POST with a Host override invalidates the resource it was sent to.
func TestReviewInvalidationUsesHostOverride(t *testing.T) {
	o := &fakeOrigin{handler: func(r *http.Request, n int) *http.Response {
		if r.Method == http.MethodPost {
			return textResponse(http.StatusNoContent, "")
		}
		return textResponse(200, r.Host+"#"+itoa(int64(n)), "Cache-Control: max-age=60")
	}}
	clk := newFakeClock()
	tr := New(newMemManager(clk.Now), WithClock(clk.Now), WithTransport(o))
	defer tr.Close()
	do := func(method string) string {
		req, _ := http.NewRequest(method, "http://10.0.0.1/a", nil)
		req.Host = "a.example"
		return readResp(t, tr, req).body
	}
	if got := do("GET"); got != "a.example#1" {
		t.Fatal(got)
	}
	do("POST")
	if got := do("GET"); got != "a.example#3" {
		t.Fatalf("after POST: %q, want a fresh response", got)
	}
}

// An empty Method means GET (net/http.Request): it is cached like a GET and
// does not invalidate as an unknown method would.
func TestReviewEmptyMethodIsGET(t *testing.T) {
	o := &fakeOrigin{handler: func(r *http.Request, n int) *http.Response {
		return textResponse(200, "v"+itoa(int64(n)), "Cache-Control: max-age=60")
	}}
	clk := newFakeClock()
	tr := New(newMemManager(clk.Now), WithClock(clk.Now), WithTransport(o))
	defer tr.Close()
	for i, method := range []string{"GET", "", "", "GET"} {
		req, _ := http.NewRequest(http.MethodGet, "http://example.com/a", nil)
		req.Method = method
		if r := readResp(t, tr, req); r.body != "v1" {
			t.Fatalf("request %d (method %q): body %q Cache-Status %q, want v1 from the cache", i, method, r.body, r.status())
		}
	}
}

// Odd requests get an error or a response, never a panic.
func TestReviewOddRequestsDoNotPanic(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=10", `ETag: "x"`))
		e.get("/o")
		e.clk.Advance(20 * time.Second) // stale: the next GET is revalidated

		if _, err := e.roundTrip(&http.Request{Method: http.MethodGet}); err == nil {
			t.Error("nil URL: no error")
		}
		if _, err := e.roundTrip(&http.Request{Method: http.MethodPost}); err == nil {
			t.Error("nil URL (POST): no error")
		}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/o", nil)
		req.Header = nil
		if resp, err := e.roundTrip(req); err == nil {
			resp.Body.Close()
		}
	})
}

// only-if-cached (RFC 9111 §5.2.1.7): a stale response served within
// stale-while-revalidate must not start a request to the origin.
func TestReviewOnlyIfCachedStartsNoRevalidation(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=10, stale-while-revalidate=100", `ETag: "x"`))
		e.get("/s")
		gate := make(chan struct{})
		defer close(gate)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) { <-gate }) // a revalidation would stay busy
		e.clk.Advance(20 * time.Second)
		r := e.get("/s", "Cache-Control: only-if-cached")
		expect(t, r, 200, "v1", "tiercache; hit")
		e.tr.bg.mu.Lock()
		busy := len(e.tr.bg.keys)
		e.tr.bg.mu.Unlock()
		if busy != 0 {
			t.Fatalf("only-if-cached started %d background revalidation(s)", busy)
		}
	})
}

// A variant found under another variant's key (as after a collision of the
// 64-bit variant hash, which a client can search for) must be a miss in
// every mode, ModeIgnoreRules included: the policy records the Vary values.
func TestReviewVariantHashCollisionIsMiss(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		for _, mode := range []Mode{ModeDefault, ModeIgnoreRules} {
			t.Run(mode.String(), func(t *testing.T) {
				e := k.env(t, nil, WithMode(mode))
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", "max-age=60")
					w.Header().Set("Vary", "X-Lang")
					io.WriteString(w, r.Header.Get("X-Lang"))
				})
				expect(t, e.get("/c", "X-Lang: en"), 200, "en", "tiercache; fwd=uri-miss; stored")
				// Make the key of X-Lang: fr hold the en variant.
				e.m.mu.Lock()
				var enKey, idxKey string
				for k, v := range e.m.m {
					if strings.Contains(k, " vary=") {
						enKey = k
					} else if len(v.resp.Header[indexField]) == 1 {
						idxKey = k
					}
				}
				idx := e.m.m[idxKey].resp
				frKey := variantKey(idxKey, idx.Header[indexField][0], varyNames(idx.Header), http.Header{"X-Lang": {"fr"}})
				e.m.m[frKey] = e.m.m[enKey]
				e.m.mu.Unlock()
				if r := e.get("/c", "X-Lang: fr"); r.body != "fr" {
					t.Fatalf("X-Lang: fr served %q (%s)", r.body, r.status())
				}
			})
		}
	})
}

// If-None-Match: * is false when a current representation exists (RFC 9110
// §13.1.2): a stored 200 answers it with 304 even without an ETag.
func TestReviewIfNoneMatchStarWithoutETag(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		e.get("/n")
		expect(t, e.get("/n", "If-None-Match: *"), 304, "", "tiercache; hit")
		expect(t, e.get("/n", `If-None-Match: "a"`), 200, "v1", "tiercache; hit")
		e.expectHits(1)
	})
}
