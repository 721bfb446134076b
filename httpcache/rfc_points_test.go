package httpcache

// Tests of the RFC points of issue 18, named after the section whose
// requirement they check (see CONFORMANCE.md).

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

func TestRFC9111_5_1_AgeListUsesFirstMember(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// An upstream cache says the response is 2 h old: with max-age=3600 it
		// is stale on arrival, and is not served as fresh.
		e, r := twice(t, k, nil, headers("Cache-Control: max-age=3600", "Age: 7200,0"), nil, time.Second)
		e.expectHits(2)
		if strings.Contains(r.status(), "hit") {
			t.Fatalf("stale response served as a hit: %s", r.status())
		}
	})
}

// rangeEnv stores "0123456789" (ETag "v", Last-Modified an hour before the
// Date) and returns the environment.
func rangeEnv(t *testing.T, etag string) *env {
	t.Helper()
	e := newEnv(t, nil)
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", e.clk.Now().Add(-time.Hour).Format(http.TimeFormat))
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", "bytes 0-0/10")
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, "0")
			return
		}
		io.WriteString(w, "0123456789")
	})
	expect(t, e.get("/r"), 200, "0123456789", "tiercache; fwd=uri-miss; stored")
	return e
}

func TestRFC9110_14_2_SingleRangeServedFromCache(t *testing.T) {
	e := rangeEnv(t, `"v"`)
	tests := []struct {
		rng, body, contentRange string
	}{
		{"bytes=2-4", "234", "bytes 2-4/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-2", "89", "bytes 8-9/10"},
		{"bytes=8-99", "89", "bytes 8-9/10"},
	}
	for _, tc := range tests {
		r := e.get("/r", "Range: "+tc.rng)
		expect(t, r, 206, tc.body, "tiercache; hit")
		if r.header.Get("Content-Range") != tc.contentRange || r.header.Get("Content-Length") != itoa(int64(len(tc.body))) {
			t.Fatalf("%s: header %v", tc.rng, r.header)
		}
	}
	e.expectHits(1)
	// A HEAD request ignores Range (RFC 9110 §14.2 defines it for GET).
	expect(t, e.do(http.MethodHead, "/r", "Range: bytes=2-4"), 200, "", "tiercache; hit")
	e.expectHits(1)
	// Several ranges, an unsatisfiable one, another unit: the origin's job.
	for _, rng := range []string{"bytes=0-1,3-4", "bytes=10-", "items=0-1"} {
		if r := e.get("/r", "Range: "+rng); r.code != 206 || r.body != "0" {
			t.Fatalf("%s: %d %q (%s), want the origin's 206", rng, r.code, r.body, r.status())
		}
	}
	e.expectHits(4)
	// The stored full response is still there.
	expect(t, e.get("/r"), 200, "0123456789", "tiercache; hit")
}

func TestRFC9110_13_1_5_IfRange(t *testing.T) {
	e := rangeEnv(t, `"v"`)
	lm := e.clk.Now().Add(-time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name, ifRange string
		code          int
		body          string
	}{
		{"strong ETag matches", `"v"`, 206, "12"},
		{"other ETag: whole response", `"w"`, 200, "0123456789"},
		{"weak ETag never matches", `W/"v"`, 200, "0123456789"},
		{"Last-Modified date matches (strong: Date an hour later)", lm, 206, "12"},
		{"other date", e.clk.Now().Format(http.TimeFormat), 200, "0123456789"},
		{"not a validator", "soon", 200, "0123456789"},
	}
	for _, tc := range tests {
		r := e.get("/r", "Range: bytes=1-2", "If-Range: "+tc.ifRange)
		if r.code != tc.code || r.body != tc.body || !strings.HasPrefix(r.status(), "tiercache; hit") {
			t.Errorf("%s: %d %q %s, want %d %q from the cache", tc.name, r.code, r.body, r.status(), tc.code, tc.body)
		}
	}
	e.expectHits(1)
}

func TestRFC9110_13_1_5_IfRangeWeakLastModified(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// Last-Modified equal to Date is a weak validator: If-Range with it is
		// false, so the whole response is served.
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Last-Modified", e.clk.Now().Format(http.TimeFormat))
			io.WriteString(w, "0123456789")
		})
		e.get("/w")
		expect(t, e.get("/w", "Range: bytes=1-2", "If-Range: "+e.clk.Now().Format(http.TimeFormat)), 200, "0123456789", "tiercache; hit")
	})
}

func TestRFC9110_14_2_StaleRangeForwarded(t *testing.T) {
	// A stale stored response is not validated for a Range request: the
	// request goes to the origin as it is.
	e := rangeEnv(t, `"v"`)
	e.clk.Advance(2 * time.Minute)
	r := e.get("/r", "Range: bytes=1-2")
	expect(t, r, 206, "0", "tiercache; fwd=stale")
	if e.lastRequest().Header.Get("If-None-Match") != "" {
		t.Fatal("a Range request was turned into a validation")
	}
}

func TestRFC9211_StoredOnlyWhenStored(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		t.Run("streamed body: trailer after the body", func(t *testing.T) {
			e := k.env(t, sized("hello"))
			req := mustRequest(t, e.srv.URL+"/s")
			resp, err := e.roundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if cs := resp.Header.Get("Cache-Status"); cs != "tiercache; fwd=uri-miss; ttl=60" {
				t.Fatalf("header Cache-Status %q before the body was read", cs)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			if cs := resp.Trailer.Get("Cache-Status"); cs != "tiercache; fwd=uri-miss; stored; ttl=60" {
				t.Fatalf("trailer Cache-Status %q", cs)
			}
		})
		t.Run("abandoned body", func(t *testing.T) {
			e := k.env(t, sized(strings.Repeat("x", 100<<10)))
			resp, _ := e.roundTrip(mustRequest(t, e.srv.URL+"/a"))
			io.ReadFull(resp.Body, make([]byte, 10))
			resp.Body.Close()
			if cs := resp.Trailer.Get("Cache-Status"); strings.Contains(cs, "stored") {
				t.Fatalf("abandoned body said %q", cs)
			}
		})
		t.Run("Put refused", func(t *testing.T) {
			e := k.env(t, sized("hello"))
			e.m.fail.Store(true)
			if r := e.get("/p"); strings.Contains(r.status(), "stored") {
				t.Fatalf("refused Put said %q", r.status())
			}
		})
		t.Run("nothing to retain", func(t *testing.T) {
			e := k.env(t, nil)
			e.setHandler(e.counter("Cache-Control: max-age=0"))
			if r := e.get("/n"); strings.Contains(r.status(), "stored") {
				t.Fatalf("a response with no retention said %q", r.status())
			}
		})
		t.Run("no body: in the header", func(t *testing.T) {
			e := k.env(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.WriteHeader(http.StatusNoContent)
			})
			resp, _ := e.roundTrip(mustRequest(t, e.srv.URL+"/e"))
			resp.Body.Close()
			if cs := resp.Header.Get("Cache-Status"); cs != "tiercache; fwd=uri-miss; stored; ttl=60" {
				t.Fatalf("Cache-Status %q", cs)
			}
		})
	})
}

func TestRFC9111_5_2_1_2_MaxStaleWithStaleGrace(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		for _, grace := range []time.Duration{0, time.Hour} {
			t.Run("grace "+grace.String(), func(t *testing.T) {
				e := k.env(t, nil, WithStaleGrace(grace))
				e.setHandler(e.counter("Cache-Control: max-age=10")) // no validators
				e.get("/g")
				e.clk.Advance(30 * time.Second)
				r := e.get("/g", "Cache-Control: max-stale=60")
				if kept := grace > 0; kept != (r.body == "v1") {
					t.Fatalf("served %q (%s) with grace %v", r.body, r.status(), grace)
				}
			})
		}
	})
}

func TestRFC9111_4_3_5_HEADFreshensWithStaleGrace(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithStaleGrace(time.Hour))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("X-Gen", itoa(e.hits.Load()))
			if r.Method == http.MethodGet {
				io.WriteString(w, "body")
			} else {
				w.Header().Set("Content-Length", "4")
			}
		})
		e.get("/h")
		e.clk.Advance(30 * time.Second) // stale, no validators: kept only by the grace
		expect(t, e.do(http.MethodHead, "/h"), 200, "", "tiercache; fwd=stale; fwd-status=200; stored")
		r := e.get("/h")
		expect(t, r, 200, "body", "tiercache; hit")
		if r.header.Get("X-Gen") != "2" {
			t.Fatalf("stored GET response not freshened by the HEAD: %v", r.header)
		}
	})
}

func TestRFC9111_3_1_HopByHopNeverStored(t *testing.T) {
	hop := []string{"Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authentication-Info",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}
	up := rtFunc(func(r *http.Request) (*http.Response, error) {
		resp := textResponse(200, "x", "Cache-Control: max-age=60", "Connection: X-Hop, close", "X-Hop: 1", "X-End: kept")
		for _, f := range hop {
			resp.Header.Set(f, "x")
		}
		return resp, nil
	})
	clk := newFakeClock()
	m := newMemManager(clk.Now)
	tr := New(m, WithClock(clk.Now), WithTransport(up))
	defer tr.Close()
	req := mustRequest(t, "http://example.com/h")
	readResp(t, tr, req)
	stored, _, _ := m.Get(t.Context(), DefaultKey(req))
	if stored == nil {
		t.Fatal("not stored")
	}
	for _, f := range append(hop, "Connection", "X-Hop") {
		if _, ok := stored.Header[f]; ok {
			t.Errorf("%s stored: %v", f, stored.Header)
		}
	}
	if stored.Header.Get("X-End") != "kept" {
		t.Errorf("end-to-end field lost: %v", stored.Header)
	}
}

func TestRFC9111_3_1_HopByHopNeverServed(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// An entry another writer stored with hop-by-hop fields.
		e := k.env(t, nil)
		h := http.Header{"Connection": {"X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"timeout=5"}, "Transfer-Encoding": {"chunked"},
			"X-End": {"kept"}, "Date": {e.clk.Now().Format(http.TimeFormat)}, "Cache-Control": {"max-age=60"}}
		resp := &tiercache.Response{Status: 200, Header: h, Body: []byte("x")}
		pol := tiercache.NewPolicy(nil, &http.Response{StatusCode: 200, Header: h}, tiercache.WithNow(e.clk.Now()))
		key := DefaultKey(mustRequest(t, e.srv.URL+"/f"))
		if _, err := e.m.Put(t.Context(), key, resp, pol); err != nil {
			t.Fatal(err)
		}
		r := e.get("/f")
		expect(t, r, 200, "x", "tiercache; hit")
		for _, f := range []string{"Connection", "X-Hop", "Keep-Alive", "Transfer-Encoding"} {
			if _, ok := r.header[f]; ok {
				t.Errorf("%s served from the cache: %v", f, r.header)
			}
		}
		if r.header.Get("X-End") != "kept" {
			t.Errorf("end-to-end field lost: %v", r.header)
		}
	})
}

func TestRFC9111_3_2_304KeepsBodyFields(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var ver = "1"
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("ETag", `"e"`)
			if r.Header.Get("If-None-Match") == `"e"` {
				w.Header().Set("Content-Range", "bytes 0-1/2")
				w.Header().Set("Content-MD5", "bm90IHRoZSBib2R5")
				w.Header().Set("X-Ver", ver)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")
			io.WriteString(w, "hello")
		})
		e.get("/m")
		e.clk.Advance(20 * time.Second)
		ver = "2"
		r := e.get("/m")
		expect(t, r, 200, "hello", "tiercache; fwd=stale; fwd-status=304; stored")
		if r.header.Get("Content-Range") != "" || r.header.Get("Content-MD5") != "XUFAKrxLKna5cZ2REBfFkg==" || r.header.Get("X-Ver") != "2" {
			t.Fatalf("304 merge: %v", r.header)
		}
	})
}

func TestRFC9111_4_3_5_HEADRevalidationOriginDown(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name, cc string
			code     int
			status   string
		}{
			{"must-revalidate: 504", "max-age=1, must-revalidate", 504, "tiercache; fwd=stale; detail=origin-unreachable"},
			{"stale-if-error: stale", "max-age=1, stale-if-error=600", 200, "tiercache; hit; fwd=stale; ttl=-9; detail=stale-if-error"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(e.counter("Cache-Control: "+tc.cc, `ETag: "e"`))
				e.get("/h")
				e.clk.Advance(10 * time.Second)
				e.killOrigin()
				expect(t, e.do(http.MethodHead, "/h"), tc.code, "", tc.status)
			})
		}
		t.Run("stale-if-error on a 500", func(t *testing.T) {
			e := k.env(t, nil)
			e.setHandler(e.counter("Cache-Control: max-age=1, stale-if-error=600", `ETag: "e"`))
			e.get("/h")
			e.clk.Advance(10 * time.Second)
			e.setHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
			r := e.do(http.MethodHead, "/h")
			expect(t, r, 200, "", "tiercache; hit; fwd=stale; fwd-status=500")
			if r.header.Get("Content-Length") != "2" {
				t.Fatalf("HEAD from the cache: %v", r.header)
			}
		})
	})
}
