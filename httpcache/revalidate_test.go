package httpcache

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// etagOrigin serves version *ver with ETag "<ver>" and answers 304 to a
// matching If-None-Match with the extra header pairs.
func etagOrigin(e *env, ver *atomic.Int64, extra304 ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tag := `"` + itoa(ver.Load()) + `"`
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			for _, kv := range extra304 {
				k, v, _ := cut(kv)
				w.Header().Set(k, v)
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("X-Version", itoa(ver.Load()))
		io.WriteString(w, "body"+itoa(ver.Load()))
	}
}

func TestRevalidate304UpdatesHeaders(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var ver atomic.Int64
		ver.Store(1)
		e := k.env(t, nil)
		e.setHandler(etagOrigin(e, &ver, "X-Version: 1b", "Cache-Control: max-age=120", "Content-Length: 999"))
		e.get("/e")
		e.clk.Advance(61 * time.Second)
		r := e.get("/e")
		expect(t, r, 200, "body1", "tiercache; fwd=stale; fwd-status=304; stored; ttl=120")
		if e.lastRequest().Header.Get("If-None-Match") != `"1"` {
			t.Fatalf("revalidation did not send If-None-Match: %v", e.lastRequest().Header)
		}
		if r.header.Get("X-Version") != "1b" || r.header.Get("Content-Length") != "5" || r.header.Get("Age") != "0" {
			t.Fatalf("304 update: header %v", r.header)
		}
		e.clk.Advance(100 * time.Second) // fresh for 120s from the 304
		r = e.get("/e")
		expect(t, r, 200, "body1", "tiercache; hit; ttl=20")
		if r.header.Get("X-Version") != "1b" {
			t.Fatalf("stored header not updated: %v", r.header)
		}
		e.expectHits(2)
	})
}

func TestRevalidate200Replaces(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var ver atomic.Int64
		ver.Store(1)
		e := k.env(t, nil)
		e.setHandler(etagOrigin(e, &ver))
		e.get("/e")
		ver.Store(2)
		e.clk.Advance(61 * time.Second)
		expect(t, e.get("/e"), 200, "body2", "tiercache; fwd=stale; fwd-status=200; stored")
		expect(t, e.get("/e"), 200, "body2", "tiercache; hit")
	})
}

func TestRevalidateLastModified(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		lm := e.clk.Now().Add(-time.Hour).Format(http.TimeFormat)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Last-Modified", lm)
			if r.Header.Get("If-Modified-Since") == lm {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "lm")
		})
		expect(t, e.get("/lm"), 200, "lm", "tiercache; fwd=uri-miss; stored; ttl=0")
		expect(t, e.get("/lm"), 200, "lm", "tiercache; fwd=stale; fwd-status=304; stored")
		e.expectHits(2)
	})
}

func TestRevalidate304ValidatorMismatchRefetches(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		n := 0
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			n++
			w.Header().Set("Cache-Control", "max-age=1")
			switch {
			case n == 1:
				w.Header().Set("ETag", `"a"`)
				io.WriteString(w, "a")
			case r.Header.Get("If-None-Match") != "":
				w.Header().Set("ETag", `"b"`) // a 304 for some other representation
				w.WriteHeader(http.StatusNotModified)
			default:
				w.Header().Set("ETag", `"b"`)
				io.WriteString(w, "b")
			}
		})
		e.get("/m")
		e.clk.Advance(2 * time.Second)
		expect(t, e.get("/m"), 200, "b", "tiercache; fwd=stale; fwd-status=200; stored")
		e.expectHits(3)
	})
}

func TestStaleWhileRevalidate(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		release := make(chan struct{})
		var bodies atomic.Int64
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if n := bodies.Add(1); n > 1 {
				<-release // hold the background revalidation
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=30")
			io.WriteString(w, "v"+itoa(bodies.Load()))
		})
		e.get("/s")
		e.clk.Advance(20 * time.Second)
		for range 3 { // three stale hits, one background revalidation
			expect(t, e.get("/s"), 200, "v1", "tiercache; hit; ttl=-10; detail=stale-while-revalidate")
		}
		close(release)
		e.tr.bg.wg.Wait() // the background revalidation
		e.expectHits(2)
		expect(t, e.get("/s"), 200, "v2", "tiercache; hit; ttl=10")
		// Beyond the window the response is revalidated in the foreground.
		e.clk.Advance(45 * time.Second)
		expect(t, e.get("/s"), 200, "v3", "tiercache; fwd=")
	})
}

func TestStaleIfError(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name   string
			cc     string
			age    time.Duration
			fail   string // "500" or "dead"
			code   int
			status string
		}{
			{"500 within window", "max-age=10, stale-if-error=60", 30 * time.Second, "500", 200, "tiercache; hit; fwd=stale; fwd-status=500; ttl=-20; detail=stale-if-error"},
			{"dead within window", "max-age=10, stale-if-error=60", 30 * time.Second, "dead", 200, "tiercache; hit; fwd=stale; ttl=-20; detail=stale-if-error"},
			{"500 beyond window", "max-age=10, stale-if-error=60", 90 * time.Second, "500", 500, "tiercache; fwd=stale; fwd-status=500"},
			{"500 must-revalidate", "max-age=10, stale-if-error=60, must-revalidate", 30 * time.Second, "500", 500, "tiercache; fwd=stale; fwd-status=500"},
			{"dead must-revalidate", "max-age=10, must-revalidate", 30 * time.Second, "dead", 504, "tiercache; fwd=stale; detail=origin-unreachable"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", tc.cc)
					w.Header().Set("ETag", `"x"`)
					io.WriteString(w, "ok")
				})
				e.get("/f")
				e.clk.Advance(tc.age)
				if tc.fail == "dead" {
					e.killOrigin()
				} else {
					e.setHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
				}
				r := e.get("/f")
				wantBody := "ok"
				if tc.code != 200 {
					wantBody = ""
				}
				expect(t, r, tc.code, wantBody, tc.status)
			})
		}
	})
}

// deadTransport fails every request as a dead origin does.
func deadTransport() http.RoundTripper {
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errDead}
	}}
}

var errDead = errors.New("connection refused")
