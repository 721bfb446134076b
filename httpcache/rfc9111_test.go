package httpcache

// Tests named after the RFC 9111 section whose MUST they check. See
// CONFORMANCE.md for the table.

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// twice stores the response of handler h for GET /r (with req1 headers),
// advances the clock by age and sends GET /r again with req2 headers.
func twice(t *testing.T, k cacheKind, opts []Option, h func(e *env) http.HandlerFunc, req1 []string, age time.Duration, req2 ...string) (*env, result) {
	t.Helper()
	e := k.env(t, nil, opts...)
	e.setHandler(h(e))
	e.get("/r", req1...)
	e.clk.Advance(age)
	return e, e.get("/r", req2...)
}

func headers(hdr ...string) func(e *env) http.HandlerFunc {
	return func(e *env) http.HandlerFunc { return e.counter(hdr...) }
}

func shared() []Option { return []Option{WithShared(true)} }

func TestRFC9111_3_NotStoredWithoutPermission(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name string
			opts []Option
			hdr  []string
			req  []string
		}{
			{"5.2.2.5 response no-store", nil, []string{"Cache-Control: max-age=60, no-store"}, nil},
			{"5.2.1.5 request no-store", nil, []string{"Cache-Control: max-age=60"}, []string{"Cache-Control: no-store"}},
			{"5.2.2.7 private in shared cache", shared(), []string{"Cache-Control: private, max-age=60"}, nil},
			{"5.2.2.7 qualified private in shared cache", shared(), []string{`Cache-Control: private="Set-Cookie", max-age=60`}, nil},
			{"3.5 Authorization in shared cache", shared(), []string{"Cache-Control: max-age=60"}, []string{"Authorization: Basic eDp5"}},
			{"3 no freshness, not cacheable by default", nil, []string{"X-Nothing: 1"}, nil},
			{"4.1 Vary star", nil, []string{"Cache-Control: max-age=60", "Vary: *"}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e, _ := twice(t, k, tc.opts, headers(tc.hdr...), tc.req, time.Second, tc.req...)
				e.expectHits(2)
			})
		}
	})
}

func TestRFC9111_3_5_AuthorizationAllowedBy(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		for _, cc := range []string{"public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"} {
			t.Run(cc, func(t *testing.T) {
				e, r := twice(t, k, shared(), headers("Cache-Control: "+cc), []string{"Authorization: Basic eDp5"}, time.Second, "Authorization: Basic eDp5")
				expect(t, r, 200, "v1", "tiercache; hit")
				e.expectHits(1)
			})
		}
		// A private cache may store responses to authorised requests.
		e, _ := twice(t, k, nil, headers("Cache-Control: max-age=60"), []string{"Authorization: Basic eDp5"}, time.Second, "Authorization: Basic eDp5")
		e.expectHits(1)
	})
}

func TestRFC9111_3_PartialAndMethodNotStored(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			if r.Header.Get("Range") != "" {
				w.Header().Set("Content-Range", "bytes 0-1/10")
				w.WriteHeader(http.StatusPartialContent)
				io.WriteString(w, "ab")
				return
			}
			io.WriteString(w, r.Method)
		})
		expect(t, e.get("/p", "Range: bytes=0-1"), 206, "ab", "tiercache; fwd=uri-miss")
		expect(t, e.do(http.MethodPost, "/p"), 200, "POST", "tiercache; fwd=method")
		if e.m.len() != 0 {
			t.Fatal("a 206 or a POST response was stored")
		}
	})
}

func TestRFC9111_3_1_ConnectionFieldsNotStored(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		_, r := twice(t, k, nil, headers("Cache-Control: max-age=60", "Connection: X-Secret", "X-Secret: s", "Proxy-Authentication-Info: x"), nil, time.Second)
		if r.header.Get("X-Secret") != "" || r.header.Get("Proxy-Authentication-Info") != "" {
			t.Fatalf("stored hop-by-hop fields: %v", r.header)
		}
	})
}

// An incomplete response is never used: for both, one whose origin broke
// off midway (the handler aborted); for the Transport, also one its caller
// abandoned (a Middleware's client can abandon a response the server has
// already written whole, which is then complete: see TestMiddlewareClientGone).
func TestRFC9111_3_3_IncompleteNotUsed(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		t.Run("origin broke off", func(t *testing.T) {
			e := k.env(t, nil)
			e.setHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "01234")
				if e.hits.Load() == 1 {
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler)
				}
				io.WriteString(w, "56789")
			})
			if resp, err := e.roundTrip(mustRequest(t, e.srv.URL+"/r")); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			expect(t, e.get("/r"), 200, "0123456789", "tiercache; fwd=uri-miss")
		})
		if k == kindMiddleware {
			return
		}
		t.Run("caller abandoned", func(t *testing.T) {
			e := k.env(t, sized("0123456789"))
			resp, _ := e.roundTrip(mustRequest(t, e.srv.URL+"/r"))
			io.ReadFull(resp.Body, make([]byte, 3))
			resp.Body.Close()
			expect(t, e.get("/r"), 200, "0123456789", "tiercache; fwd=uri-miss")
		})
	})
}

func TestRFC9111_4_UnsafeMethodsWrittenThrough(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		e.get("/r")
		expect(t, e.do(http.MethodPut, "/r"), 200, "v2", "tiercache; fwd=method")
		e.expectHits(2)
	})
}

func TestRFC9111_4_AgeOnEveryHit(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		_, r := twice(t, k, nil, headers("Cache-Control: max-age=60"), nil, 7*time.Second)
		if r.header.Get("Age") != "7" {
			t.Fatalf("Age %q, want 7", r.header.Get("Age"))
		}
	})
}

func TestRFC9111_4_1_VaryMustMatch(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, r := twice(t, k, nil, headers("Cache-Control: max-age=60", "Vary: X-Tenant"), []string{"X-Tenant: a"}, time.Second, "X-Tenant: b")
		expect(t, r, 200, "v2", "tiercache; fwd=vary-miss")
		expect(t, e.get("/r", "X-Tenant: a"), 200, "v1", "tiercache; hit")
		// An absent field only matches absent.
		expect(t, e.get("/r"), 200, "v3", "tiercache; fwd=vary-miss")
	})
}

func TestRFC9111_4_2_1_MaxAgeOverridesExpires(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		t.Run("max-age", func(t *testing.T) {
			e, r := twice(t, k, nil, func(e *env) http.HandlerFunc {
				return e.counter("Cache-Control: max-age=60", "Expires: "+e.clk.Now().Add(-time.Hour).Format(http.TimeFormat))
			}, nil, 30*time.Second)
			expect(t, r, 200, "v1", "tiercache; hit; ttl=30")
			e.expectHits(1)
		})
		t.Run("s-maxage in shared cache", func(t *testing.T) {
			_, r := twice(t, k, shared(), func(e *env) http.HandlerFunc {
				return e.counter("Cache-Control: s-maxage=60, max-age=1", "Expires: "+e.clk.Now().Format(http.TimeFormat))
			}, nil, 30*time.Second)
			expect(t, r, 200, "v1", "tiercache; hit; ttl=30")
		})
		t.Run("s-maxage ignored by a private cache", func(t *testing.T) {
			_, r := twice(t, k, nil, headers("Cache-Control: s-maxage=60, max-age=1"), nil, 30*time.Second)
			expect(t, r, 200, "v2", "tiercache; fwd=")
		})
	})
}

func TestRFC9111_4_2_2_HeuristicFreshness(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, r := twice(t, k, nil, func(e *env) http.HandlerFunc {
			return e.counter("Last-Modified: " + e.clk.Now().Add(-100*time.Hour).Format(http.TimeFormat))
		}, nil, 9*time.Hour)
		expect(t, r, 200, "v1", "tiercache; hit; ttl=3600") // 10% of 100h
		e.expectHits(1)
	})
}

func TestRFC9111_4_2_3_AgeCalculation(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, r := twice(t, k, nil, headers("Cache-Control: max-age=60", "Age: 20"), nil, 10*time.Second)
		expect(t, r, 200, "v1", "tiercache; hit; ttl=30")
		if r.header.Get("Age") != "30" {
			t.Fatalf("Age %q, want 30 (20 upstream + 10 resident)", r.header.Get("Age"))
		}
		e.clk.Advance(31 * time.Second)
		expect(t, e.get("/r"), 200, "v2", "tiercache; fwd=")
	})
}

func TestRFC9111_4_2_4_NoStaleWithoutPermission(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name string
			opts []Option
			cc   string
			req  []string
		}{
			{"stale by default", nil, "max-age=10", nil},
			{"must-revalidate beats max-stale", nil, "max-age=10, must-revalidate", []string{"Cache-Control: max-stale=3600"}},
			{"no-cache beats max-stale", nil, "no-cache", []string{"Cache-Control: max-stale=3600"}},
			{"proxy-revalidate in shared cache", shared(), "max-age=10, proxy-revalidate", []string{"Cache-Control: max-stale=3600"}},
			{"s-maxage in shared cache", shared(), "s-maxage=10", []string{"Cache-Control: max-stale=3600"}},
			{"must-revalidate beats stale-while-revalidate", nil, "max-age=10, must-revalidate, stale-while-revalidate=600", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e, r := twice(t, k, tc.opts, headers("Cache-Control: "+tc.cc, `ETag: "e"`), nil, 30*time.Second, tc.req...)
				e.expectHits(2)
				if r.body != "v2" {
					t.Fatalf("served %q (%s)", r.body, r.status())
				}
			})
		}
	})
}

func TestRFC9111_4_3_1_ConditionalRequest(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, _ := twice(t, k, nil, func(e *env) http.HandlerFunc {
			return e.counter("Cache-Control: max-age=1", `ETag: "t"`, "Last-Modified: "+e.clk.Now().Add(-time.Hour).Format(http.TimeFormat))
		}, nil, 2*time.Second, `If-None-Match: "client"`)
		h := e.lastRequest().Header
		if h.Get("If-None-Match") != `"t"` || h.Get("If-Modified-Since") == "" {
			t.Fatalf("validation request header %v", h)
		}
	})
}

func TestRFC9111_4_3_2_ConditionalOnHit(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name string
			req  []string
			code int
		}{
			{"If-None-Match match", []string{`If-None-Match: "x", W/"t"`}, 304},
			{"If-None-Match star", []string{`If-None-Match: *`}, 304},
			{"If-None-Match differs", []string{`If-None-Match: "u"`}, 200},
			{"If-Modified-Since later", []string{"If-Modified-Since: Sun, 01 Mar 2026 12:00:00 GMT"}, 304},
			{"If-Modified-Since earlier", []string{"If-Modified-Since: Sun, 01 Feb 2026 12:00:00 GMT"}, 200},
			{"If-Modified-Since ignored with If-None-Match", []string{`If-None-Match: "u"`, "If-Modified-Since: Sun, 01 Mar 2026 12:00:00 GMT"}, 200},
			{"If-Modified-Since invalid", []string{"If-Modified-Since: yesterday"}, 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e, r := twice(t, k, nil, headers("Cache-Control: max-age=60", `ETag: "t"`, "Last-Modified: Sat, 28 Feb 2026 12:00:00 GMT"), nil, time.Second, tc.req...)
				if r.code != tc.code || e.hits.Load() != 1 {
					t.Fatalf("status %d (hits %d), want %d from the cache", r.code, e.hits.Load(), tc.code)
				}
			})
		}
		// Preconditions for the origin are not evaluated by the cache.
		e, r := twice(t, k, nil, headers("Cache-Control: max-age=60", `ETag: "t"`), nil, time.Second, `If-Match: "t"`)
		expect(t, r, 200, "v2", "tiercache; fwd=request")
		if e.lastRequest().Header.Get("If-Match") != `"t"` {
			t.Fatal("If-Match not forwarded")
		}
	})
}

func TestRFC9111_4_3_4_StrongValidatorMismatchNotUpdated(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=1")
			if r.Header.Get("If-None-Match") != "" {
				w.Header().Set("ETag", `"other"`)
				w.Header().Set("X-Poison", "1")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"mine"`)
			io.WriteString(w, "full")
		})
		e.get("/r")
		e.clk.Advance(2 * time.Second)
		r := e.get("/r")
		if r.header.Get("X-Poison") != "" || r.body != "full" {
			t.Fatalf("stored response updated by a 304 for another representation: %v", r.header)
		}
	})
}

func TestRFC9111_4_4_Invalidation(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				w.Header().Set("Location", "http://elsewhere.example/r")
				return
			}
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, r.URL.Path)
		})
		e.get("/r")
		e.do(http.MethodDelete, "/r")
		expect(t, e.get("/r"), 200, "/r", "tiercache; fwd=uri-miss")
	})
}

func TestRFC9111_5_1_AgeValue(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{-time.Second, "0"}, {1999 * time.Millisecond, "1"}, {1 << 62, "2147483648"}} {
		if got := ageValue(tc.d); got != tc.want {
			t.Errorf("ageValue(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestRFC9111_5_2_1_7_OnlyIfCached504(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		expect(t, e.get("/r", "Cache-Control: only-if-cached"), 504, "", "tiercache; detail=only-if-cached")
		e.expectHits(0)
	})
}

func TestRFC9111_5_2_2_2_MustRevalidate504WhenDisconnected(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=1, must-revalidate, stale-if-error=600", `ETag: "e"`))
		e.get("/r")
		e.clk.Advance(2 * time.Second)
		e.killOrigin()
		expect(t, e.get("/r"), 504, "", "tiercache; fwd=stale")
	})
}

func TestRFC9111_5_2_2_4_NoCacheAlwaysValidated(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, r := twice(t, k, nil, headers("Cache-Control: no-cache, max-age=600", `ETag: "e"`), nil, 0)
		expect(t, r, 200, "v2", "tiercache; fwd=stale")
		if e.lastRequest().Header.Get("If-None-Match") != `"e"` {
			t.Fatal("no-cache response not revalidated conditionally")
		}
	})
}

func TestRFC9111_5_3_InvalidExpiresIsStale(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, _ := twice(t, k, nil, headers("Expires: 0", "Last-Modified: Sat, 01 Feb 2025 12:00:00 GMT"), nil, time.Second)
		e.expectHits(2)
	})
}

func TestRFC9111_5_4_PragmaNoCache(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e, _ := twice(t, k, nil, headers("Cache-Control: max-age=60"), nil, time.Second, "Pragma: no-cache")
		e.expectHits(2)
	})
}
