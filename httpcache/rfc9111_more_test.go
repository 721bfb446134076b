package httpcache

// More tests named after the RFC section whose requirement they check (see
// CONFORMANCE.md): must-understand, request stale-if-error, and details of
// §4.2.4, §4.3.2 and §5.2.1.

import (
	"io"
	"net/http"
	"testing"
	"time"
)

func TestRFC9111_5_2_2_3_MustUnderstand(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name   string
			code   int
			cc     string
			opts   []Option
			stored bool
		}{
			{"understood status ignores no-store", 200, "must-understand, no-store, max-age=60", nil, true},
			{"understood status, no-store on another line", 200, "must-understand, max-age=60\nno-store", nil, true},
			{"understood 404", 404, "no-store, max-age=60, must-understand", nil, true},
			{"unknown status not stored", 299, "must-understand, max-age=60", nil, false},
			{"control: unknown status without must-understand", 299, "max-age=60", nil, true},
			{"206 not understood", 206, "must-understand, max-age=60", nil, false},
			{"no-store without must-understand", 200, "no-store, max-age=60", nil, false},
			{"no-store inside a quoted string", 200, `must-understand, x-note="a, no-store", max-age=60`, nil, true},
			{"private still applies in a shared cache", 200, "must-understand, no-store, private, max-age=60", shared(), false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil, tc.opts...)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					for _, line := range splitLines(tc.cc) {
						w.Header().Add("Cache-Control", line)
					}
					w.WriteHeader(tc.code)
					io.WriteString(w, "x")
				})
				e.get("/u")
				e.clk.Advance(time.Second)
				r := e.get("/u")
				if r.code != tc.code {
					t.Fatalf("status %d", r.code)
				}
				if got := e.hits.Load() == 1; got != tc.stored {
					t.Fatalf("stored = %v, want %v (%s)", got, tc.stored, r.status())
				}
			})
		}
	})
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// must-understand is decided by the policy: the stored header keeps every
// directive, no-store included.
func TestMustUnderstandKeepsStoredHeader(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: must-understand, no-store, max-age=60"))
		e.get("/u")
		stored, _, _ := e.m.Get(t.Context(), DefaultKey(mustRequest(t, e.srv.URL+"/u")))
		if stored == nil || stored.Header.Get("Cache-Control") != "must-understand, no-store, max-age=60" {
			t.Fatalf("stored %v", stored)
		}
	})
}

func TestRFC5861_4_RequestStaleIfError(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name   string
			cc     string
			req    string
			fail   string // "500" or "dead"
			code   int
			status string
		}{
			{"500 within request window", "max-age=10", "stale-if-error=60", "500", 200, "tiercache; hit; fwd=stale; fwd-status=500; ttl=-20; detail=stale-if-error"},
			{"dead within request window", "max-age=10", "max-stale=5, stale-if-error=60", "dead", 200, "tiercache; hit; fwd=stale; ttl=-20; detail=stale-if-error"},
			{"500 beyond request window", "max-age=10", "stale-if-error=10", "500", 500, "tiercache; fwd=stale; fwd-status=500"},
			{"malformed value ignored", "max-age=10", "stale-if-error=soon", "500", 500, "tiercache; fwd=stale; fwd-status=500"},
			{"must-revalidate wins", "max-age=10, must-revalidate", "stale-if-error=60", "500", 500, "tiercache; fwd=stale; fwd-status=500"},
			{"no-cache wins", "no-cache", "stale-if-error=60", "500", 500, "tiercache; fwd=stale; fwd-status=500"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", tc.cc)
					w.Header().Set("ETag", `"x"`) // kept past freshness for revalidation
					io.WriteString(w, "ok")
				})
				e.get("/f")
				e.clk.Advance(30 * time.Second)
				if tc.fail == "dead" {
					e.killOrigin()
				} else {
					e.setHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
				}
				r := e.get("/f", "Cache-Control: "+tc.req)
				body := "ok"
				if tc.code != 200 {
					body = ""
				}
				expect(t, r, tc.code, body, tc.status)
			})
		}
	})
}

func TestRFC9111_5_2_1_7_OnlyIfCachedNeverForwards(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		t.Run("with Range", func(t *testing.T) {
			e := k.env(t, nil)
			e.setHandler(e.counter("Cache-Control: max-age=60"))
			e.get("/r")
			// A satisfiable single range is answered from the cache; any other
			// range is for the origin, which only-if-cached forbids.
			expect(t, e.get("/r", "Range: bytes=0-0", "Cache-Control: only-if-cached"), 206, "v", "tiercache; hit")
			expect(t, e.get("/r", "Range: bytes=5-", "Cache-Control: only-if-cached"), 504, "", "tiercache; detail=only-if-cached")
			expect(t, e.get("/r", "Range: bytes=0-0,1-1", "Cache-Control: only-if-cached"), 504, "", "tiercache; fwd=request; detail=only-if-cached")
			e.expectHits(1)
		})
		t.Run("in ModeReload", func(t *testing.T) {
			e := k.env(t, nil, WithMode(ModeReload))
			e.setHandler(e.counter("Cache-Control: max-age=60"))
			expect(t, e.get("/r", "Cache-Control: only-if-cached"), 504, "", "tiercache; fwd=request; detail=only-if-cached")
			e.expectHits(0)
		})
	})
}

func TestRFC9111_4_3_2_IfModifiedSinceUsesDate(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// No Last-Modified: the stored Date (12:00:00) is compared.
		for _, tc := range []struct {
			ims  string
			code int
		}{{"Sun, 01 Mar 2026 12:00:00 GMT", 304}, {"Sun, 01 Mar 2026 11:59:59 GMT", 200}} {
			e, r := twice(t, k, nil, headers("Cache-Control: max-age=60"), nil, time.Second, "If-Modified-Since: "+tc.ims)
			if r.code != tc.code || e.hits.Load() != 1 {
				t.Fatalf("If-Modified-Since %s: %d (hits %d), want %d", tc.ims, r.code, e.hits.Load(), tc.code)
			}
		}
	})
}

func TestRFC9111_5_2_1_1_MaxAgeRefusesStaleWhileRevalidate(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// max-age=60 accepts the age (20s) but not a stale response: the
		// stale-while-revalidate window does not apply, the origin is asked.
		e, r := twice(t, k, nil, headers("Cache-Control: max-age=10, stale-while-revalidate=60"), nil, 20*time.Second, "Cache-Control: max-age=60")
		expect(t, r, 200, "v2", "tiercache; fwd=stale")
		e.expectHits(2)
		// With max-stale too, it is served stale.
		e, r = twice(t, k, nil, headers("Cache-Control: max-age=10", `ETag: "e"`), nil, 20*time.Second, "Cache-Control: max-age=60, max-stale=30")
		expect(t, r, 200, "v1", "tiercache; hit")
		e.expectHits(1)
	})
}
