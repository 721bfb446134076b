package httpcache

// Tests of the defects of issue 13 in httpcache, each named after the
// defect; each fails (or hangs until its guard) on the code before the fix.

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// endless is a body that never ends; it counts the bytes read from it.
type endless struct{ n *atomic.Int64 }

func (r endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n.Add(int64(len(p)))
	return len(p), nil
}

func (endless) Close() error { return nil }

// swrTransport is a Transport over a memManager whose upstream answers the
// first request for each path with a stale-while-revalidate response and
// every later one with later(r).
func swrTransport(t *testing.T, later func(r *http.Request) (*http.Response, error), opts ...Option) (*Transport, *fakeClock) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	up := rtFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		first := !seen[r.URL.Path]
		seen[r.URL.Path] = true
		mu.Unlock()
		if first {
			return textResponse(200, "stale", "Cache-Control: max-age=1, stale-while-revalidate=1000"), nil
		}
		return later(r)
	})
	clk := newFakeClock()
	tr := New(newMemManager(clk.Now), append([]Option{WithClock(clk.Now), WithTransport(up)}, opts...)...)
	t.Cleanup(func() { tr.Close() })
	return tr, clk
}

// waitBackground waits until no background revalidation runs, failing the
// test when they still run after a generous guard (a hang, not a timing).
func waitBackground(t *testing.T, tr *Transport, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { tr.bg.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: background revalidations still running after 10s (%+v)", what, tr.Stats())
	}
}

func TestSWRBackgroundReadsEndlessBody(t *testing.T) {
	var read atomic.Int64
	const limit = 64 << 10
	tr, clk := swrTransport(t, func(r *http.Request) (*http.Response, error) {
		resp := textResponse(200, "", "Cache-Control: max-age=60")
		resp.Body, resp.ContentLength = endless{&read}, -1
		return resp, nil
	}, WithMaxBodySize(limit), WithBackgroundTimeout(time.Hour))
	req := mustRequest(t, "http://example.com/endless")
	readResp(t, tr, req)
	clk.Advance(10 * time.Second)
	if r := readResp(t, tr, req); r.body != "stale" {
		t.Fatalf("stale hit: %q", r.body)
	}
	waitBackground(t, tr, "endless body")
	if n := read.Load(); n > limit+64<<10 {
		t.Fatalf("the background revalidation read %d bytes, limit %d", n, limit)
	}
	if s := tr.Stats(); s.Refusals.TooLarge != 1 || s.Refreshes != 1 || s.Stores != 1 {
		t.Fatalf("stats %+v", s)
	}
	if r := readResp(t, tr, req); r.body != "stale" {
		t.Fatalf("an oversized body was stored: %q", r.body[:min(len(r.body), 10)])
	}
	waitBackground(t, tr, "endless body")
}

// hang blocks until the request's context ends.
func hang(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

func TestSWRBackgroundRequestsHaveNoDeadline(t *testing.T) {
	const keys = 100
	stale := func(tr *Transport, clk *fakeClock) {
		for i := range keys {
			readResp(t, tr, mustRequest(t, "http://example.com/k"+itoa(int64(i))))
		}
		clk.Advance(10 * time.Second)
		for i := range keys {
			if r := readResp(t, tr, mustRequest(t, "http://example.com/k"+itoa(int64(i)))); r.body != "stale" {
				t.Fatalf("key %d: %q", i, r.body)
			}
		}
	}
	t.Run("a cap on running revalidations", func(t *testing.T) {
		tr, clk := swrTransport(t, hang, WithMaxBackground(8), WithBackgroundTimeout(time.Hour))
		before := runtime.NumGoroutine()
		stale(tr, clk)
		if grown := runtime.NumGoroutine() - before; grown > 8+4 {
			t.Fatalf("goroutines grew by %d for %d stale keys on a hanging origin (cap 8)", grown, keys)
		}
		if s := tr.Stats(); s.Refreshes != 8 || s.RefreshesSkipped != keys-8 || s.RefreshesRunning != 8 {
			t.Fatalf("stats %+v", s)
		}
		tr.Close()
		if s := tr.Stats(); s.RefreshesRunning != 0 {
			t.Fatalf("running after Close: %+v", s)
		}
	})
	t.Run("a deadline on each", func(t *testing.T) {
		tr, clk := swrTransport(t, hang, WithMaxBackground(keys), WithBackgroundTimeout(20*time.Millisecond))
		stale(tr, clk)
		waitBackground(t, tr, "hanging origin") // without Close
		if s := tr.Stats(); s.Refreshes != keys || s.RefreshErrors != keys || s.RefreshesRunning != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
}

func TestSWRBackgroundPanicRecovered(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	var panicky atomic.Bool
	panicky.Store(true)
	tr, clk := swrTransport(t, func(r *http.Request) (*http.Response, error) {
		if panicky.Load() {
			panic("upstream bug")
		}
		return textResponse(200, "fresh", "Cache-Control: max-age=60"), nil
	}, WithErrorHook(func(r *http.Request, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	req := mustRequest(t, "http://example.com/p")
	readResp(t, tr, req)
	clk.Advance(10 * time.Second)
	readResp(t, tr, req) // starts the revalidation that panics
	waitBackground(t, tr, "panic")
	mu.Lock()
	if len(errs) != 1 || !errors.Is(errs[0], tiercache.ErrPanic) || !strings.Contains(errs[0].Error(), "upstream bug") {
		t.Fatalf("errors reported: %v", errs)
	}
	mu.Unlock()
	if s := tr.Stats(); s.Panics != 1 || s.RefreshesRunning != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The key is free again: the next stale hit refreshes it.
	panicky.Store(false)
	readResp(t, tr, req)
	waitBackground(t, tr, "after the panic")
	if r := readResp(t, tr, req); r.body != "fresh" {
		t.Fatalf("not refreshed after the panic: %q", r.body)
	}
}

// idleCloser is an upstream RoundTripper that counts CloseIdleConnections.
type idleCloser struct {
	http.RoundTripper
	closed atomic.Int32
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

func TestCloseIdleConnectionsDoesNothing(t *testing.T) {
	up := &idleCloser{RoundTripper: http.DefaultTransport}
	tr := New(newMemManager(time.Now), WithTransport(up))
	defer tr.Close()
	client := &http.Client{Transport: tr}
	client.CloseIdleConnections()
	if up.closed.Load() != 1 {
		t.Fatal("http.Client.CloseIdleConnections did not reach the upstream transport")
	}
	// An upstream without the method is fine too.
	New(newMemManager(time.Now), WithTransport(rtFunc(hang))).CloseIdleConnections()
}

func TestErrorsQuoteWholeKey(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		huge := strings.Repeat("k", 1<<20)
		var msgs []string
		e := k.env(t, nil, WithKeyFunc(func(*http.Request) string { return huge }),
			WithErrorHook(func(r *http.Request, err error) { msgs = append(msgs, err.Error()) }))
		e.m.fail.Store(true)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		e.get("/k")
		if len(msgs) == 0 {
			t.Fatal("no error reported")
		}
		for _, m := range msgs {
			if len(m) > 1024 {
				t.Fatalf("a %d-byte error message for a 1 MiB key", len(m))
			}
		}
	})
}

// The background request's context ends with Close, and its deadline is
// the Transport's, not the caller's.
func TestBackgroundRequestContext(t *testing.T) {
	got := make(chan context.Context, 1)
	tr, clk := swrTransport(t, func(r *http.Request) (*http.Response, error) {
		got <- r.Context()
		return textResponse(200, "fresh", "Cache-Control: max-age=60"), nil
	}, WithBackgroundTimeout(time.Minute))
	req := mustRequest(t, "http://example.com/c")
	readResp(t, tr, req)
	clk.Advance(10 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	readResp(t, tr, req.WithContext(ctx))
	cancel() // the caller is done; the revalidation is not
	bctx := <-got
	if _, ok := bctx.Deadline(); !ok {
		t.Fatal("background request without a deadline")
	}
	waitBackground(t, tr, "context")
	if r := readResp(t, tr, req); r.body != "fresh" {
		t.Fatalf("refresh lost with the caller's context: %q", r.body)
	}
}
