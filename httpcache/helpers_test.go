package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memManager is a map Manager that honours KeepFor with the test clock and
// can be made to fail.
type memManager struct {
	now  func() time.Time
	fail atomic.Bool
	puts atomic.Int64
	mu   sync.Mutex
	m    map[string]memEntry
}

type memEntry struct {
	resp     *tiercache.Response
	pol      *tiercache.Policy
	deadline time.Time
}

var errBroken = errors.New("broken store")

func newMemManager(now func() time.Time) *memManager {
	return &memManager{now: now, m: map[string]memEntry{}}
}

func (m *memManager) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	if m.fail.Load() {
		return nil, nil, errBroken
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if !ok || !m.now().Before(e.deadline) {
		return nil, nil, nil
	}
	return e.resp, e.pol, nil
}

func (m *memManager) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if m.fail.Load() {
		return nil, errBroken
	}
	m.puts.Add(1)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if keep := pol.KeepFor(now); keep > 0 {
		m.m[key] = memEntry{resp, pol, now.Add(keep)}
	} else {
		delete(m.m, key)
	}
	return resp, nil
}

func (m *memManager) Delete(_ context.Context, key string) error {
	if m.fail.Load() {
		return errBroken
	}
	m.mu.Lock()
	delete(m.m, key)
	m.mu.Unlock()
	return nil
}

func (m *memManager) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// env is a Transport over a memManager in front of an httptest origin,
// or (kindMiddleware) a Middleware over a memManager wrapping the origin's
// handler in an httptest server, all on one fake clock. Requests go
// through e.rt: the Transport itself, or a plain client transport to the
// Middleware's server. e.srv is the server requests are addressed to.
type env struct {
	t      *testing.T
	kind   cacheKind
	clk    *fakeClock
	m      *memManager
	srv    *httptest.Server
	tr     *Transport  // the Transport, or the Middleware's engine
	mw     *Middleware // kindMiddleware only
	rt     http.RoundTripper
	served sync.WaitGroup // the Middleware's requests being served
	hits   atomic.Int64
	mu     sync.Mutex
	handle http.HandlerFunc
	last   *http.Request // the last request the origin saw
}

// cacheKind is what an env tests: the Transport, or the Middleware.
type cacheKind uint8

const (
	kindTransport cacheKind = iota
	kindMiddleware
)

func (k cacheKind) String() string { return [...]string{"transport", "middleware"}[k] }

// both runs f as the subtests "transport" and "middleware": the RFC-section
// tests hold for both, through one rules engine.
func both(t *testing.T, f func(t *testing.T, k cacheKind)) {
	t.Helper()
	for _, k := range []cacheKind{kindTransport, kindMiddleware} {
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
	}
}

// newEnv returns a Transport env.
func newEnv(t *testing.T, h http.HandlerFunc, opts ...Option) *env {
	t.Helper()
	return kindTransport.env(t, h, opts...)
}

// env returns an env of kind k with the origin handler h.
func (k cacheKind) env(t *testing.T, h http.HandlerFunc, opts ...Option) *env {
	t.Helper()
	e := &env{t: t, kind: k, clk: newFakeClock(), handle: h}
	e.m = newMemManager(e.clk.Now)
	if k == kindTransport {
		e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
		t.Cleanup(e.srv.Close)
		opts = append([]Option{WithClock(e.clk.Now), WithTransport(e.srv.Client().Transport)}, opts...)
		e.tr = New(e.m, opts...)
		e.rt = e.tr
		t.Cleanup(func() { e.tr.Close() })
		return e
	}
	// The Middleware is a shared cache by default; the suite's tests are
	// written for the Transport's default, a private cache, and say
	// WithShared(true) where they mean it.
	e.mw = NewMiddleware(e.m, append([]Option{WithClock(e.clk.Now), WithShared(false)}, opts...)...)
	e.tr = e.mw.t
	wrapped := e.mw.Wrap(http.HandlerFunc(e.serve))
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.served.Add(1)
		defer e.served.Done()
		wrapped.ServeHTTP(w, r)
	}))
	client := &http.Transport{DisableCompression: true}
	e.rt = client
	t.Cleanup(func() {
		client.CloseIdleConnections()
		e.srv.Close()
		e.mw.Close()
	})
	return e
}

// settle waits until the Middleware has finished serving the requests
// sent so far: a client may read a whole response (known length) before
// the server goroutine has stored it. It does nothing for a Transport,
// which stores on the caller's goroutine.
func (e *env) settle() { e.served.Wait() }

// roundTrip sends req through the cache under test.
func (e *env) roundTrip(req *http.Request) (*http.Response, error) { return e.rt.RoundTrip(req) }

// killOrigin makes the origin unreachable. A Middleware's origin is a
// handler, which always answers: tests of an unreachable origin skip it.
func (e *env) killOrigin() {
	e.t.Helper()
	if e.kind == kindMiddleware {
		e.t.Skip("a Middleware's origin is a handler, which cannot be unreachable")
	}
	e.tr.opts.upstream = deadTransport()
}

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	e.hits.Add(1)
	w.Header().Set("Date", e.clk.Now().Format(http.TimeFormat))
	e.mu.Lock()
	h := e.handle
	e.last = r.Clone(context.Background())
	e.mu.Unlock()
	h(w, r)
}

func (e *env) setHandler(h http.HandlerFunc) {
	e.mu.Lock()
	e.handle = h
	e.mu.Unlock()
}

func (e *env) lastRequest() *http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// result is a response read completely.
type result struct {
	code    int
	body    string
	header  http.Header
	trailer http.Header
}

// status returns the final Cache-Status member: the trailer's when the
// Transport set one (after a streamed body), else the header's.
func (r result) status() string {
	if v := r.trailer.Get("Cache-Status"); v != "" {
		return v
	}
	return r.header.Get("Cache-Status")
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// do sends method path with header pairs "Name: value" and reads the body.
func (e *env) do(method, path string, hdr ...string) result {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, kv := range hdr {
		k, v, _ := strings.Cut(kv, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	resp, err := e.roundTrip(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return result{code: resp.StatusCode, body: string(b), header: resp.Header, trailer: resp.Trailer}
}

func (e *env) get(path string, hdr ...string) result {
	e.t.Helper()
	return e.do(http.MethodGet, path, hdr...)
}

// counter answers with a body naming how many requests the origin has
// seen, after setting the given header pairs.
func (e *env) counter(hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range hdr {
			k, v, _ := strings.Cut(kv, ":")
			w.Header().Add(k, strings.TrimSpace(v))
		}
		io.WriteString(w, "v"+itoa(e.hits.Load()))
	}
}

// expectHits fails unless the origin has seen n requests.
func (e *env) expectHits(n int64) {
	e.t.Helper()
	if got := e.hits.Load(); got != n {
		e.t.Fatalf("origin hits = %d, want %d", got, n)
	}
}

func expect(t *testing.T, r result, code int, body, statusPrefix string) {
	t.Helper()
	if r.code != code || r.body != body || !strings.HasPrefix(r.status(), statusPrefix) {
		t.Fatalf("got %d %q Cache-Status %q; want %d %q %q...", r.code, r.body, r.status(), code, body, statusPrefix)
	}
}

// cut splits a "Name: value" pair.
func cut(kv string) (string, string, bool) {
	k, v, ok := strings.Cut(kv, ":")
	return k, strings.TrimSpace(v), ok
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// flightCount returns the number of flights in progress.
func (t *Transport) flightCount() int {
	t.flights.mu.Lock()
	defer t.flights.mu.Unlock()
	return len(t.flights.m)
}

// waiters returns the number of requests waiting for the flight of key.
func (t *Transport) waiters(key string) int32 {
	t.flights.mu.Lock()
	defer t.flights.mu.Unlock()
	if fl := t.flights.m[key]; fl != nil {
		return fl.waiters.Load()
	}
	return 0
}
