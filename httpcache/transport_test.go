package httpcache

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshHitAndAge(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		expect(t, e.get("/a"), 200, "v1", "tiercache; fwd=uri-miss; stored; ttl=60")
		e.clk.Advance(15 * time.Second)
		r := e.get("/a")
		expect(t, r, 200, "v1", "tiercache; hit; ttl=45")
		if r.header.Get("Age") != "15" {
			t.Fatalf("Age = %q, want 15", r.header.Get("Age"))
		}
		e.expectHits(1)
		e.clk.Advance(46 * time.Second)
		expect(t, e.get("/a"), 200, "v2", "tiercache; fwd=uri-miss; stored") // expired from the store: no validators, no grace
	})
}

func TestStorable(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		lastMod := func(e *env) string {
			return "Last-Modified: " + e.clk.Now().Add(-100*time.Hour).Format(http.TimeFormat)
		}
		tests := []struct {
			name   string
			shared bool
			hdr    func(e *env) []string
			status int
			stored bool
		}{
			{"max-age", false, nil, 200, true},
			{"no-store", false, func(*env) []string { return []string{"Cache-Control: no-store, max-age=60"} }, 200, false},
			{"private in private cache", false, func(*env) []string { return []string{"Cache-Control: private, max-age=60"} }, 200, true},
			{"private in shared cache", true, func(*env) []string { return []string{"Cache-Control: private, max-age=60"} }, 200, false},
			{"vary star", false, func(*env) []string { return []string{"Cache-Control: max-age=60", "Vary: *"} }, 200, false},
			{"heuristic 200", false, func(e *env) []string { return []string{lastMod(e)} }, 200, true},
			{"heuristic 404", false, func(e *env) []string { return []string{lastMod(e)} }, 404, true},
			{"302 without freshness", false, func(e *env) []string { return []string{lastMod(e)} }, 302, false},
			{"500 without freshness", false, func(*env) []string { return nil }, 500, false},
			{"500 with max-age", false, func(*env) []string { return []string{"Cache-Control: max-age=60"} }, 500, true},
			{"no freshness no validators", false, func(*env) []string { return nil }, 200, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil, WithShared(tc.shared))
				hdr := []string{"Cache-Control: max-age=60"}
				if tc.hdr != nil {
					hdr = tc.hdr(e)
				}
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					for _, kv := range hdr {
						k, v, _ := cut(kv)
						w.Header().Add(k, v)
					}
					if tc.status == 302 {
						w.Header().Set("Location", "/elsewhere")
					}
					w.WriteHeader(tc.status)
					w.Write([]byte("body"))
				})
				e.get("/x")
				e.clk.Advance(time.Second)
				r := e.get("/x")
				hit := e.hits.Load() == 1
				if hit != tc.stored {
					t.Fatalf("second request hit = %v, want %v (Cache-Status %q)", hit, tc.stored, r.status())
				}
				if r.code != tc.status {
					t.Fatalf("status %d, want %d", r.code, tc.status)
				}
			})
		}
	})
}

func TestStoredHeaderStripsHopByHop(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Connection", "X-Hop")
			w.Header().Set("X-Hop", "1")
			w.Header().Set("Keep-Alive", "timeout=5")
			w.Header().Set("Proxy-Authenticate", "Basic")
			w.Header().Set("X-End", "kept")
			w.Header().Set(indexField, "forged")
			w.Write([]byte("x"))
		})
		e.get("/h")
		r := e.get("/h")
		expect(t, r, 200, "x", "tiercache; hit")
		for _, f := range []string{"X-Hop", "Keep-Alive", "Proxy-Authenticate", indexField} {
			if v := r.header.Get(f); v != "" {
				t.Errorf("%s = %q served from cache, want it not stored", f, v)
			}
		}
		if r.header.Get("X-End") != "kept" {
			t.Errorf("X-End lost: %v", r.header)
		}
	})
}

func TestDateAddedWhenMissing(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Date"] = nil // suppress the server's Date
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("d"))
		})
		e.get("/d")
		e.clk.Advance(10 * time.Second)
		r := e.get("/d")
		want := e.clk.Now().Add(-10 * time.Second).Format(http.TimeFormat)
		if r.header.Get("Date") != want || r.header.Get("Age") != "10" {
			t.Fatalf("Date %q Age %q, want %q and 10", r.header.Get("Date"), r.header.Get("Age"), want)
		}
	})
}

func TestHEAD(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		r := e.do(http.MethodHead, "/head")
		expect(t, r, 200, "", "tiercache; fwd=uri-miss")
		if e.m.len() != 0 {
			t.Fatalf("HEAD response stored")
		}
		expect(t, e.get("/head"), 200, "v2", "tiercache; fwd=uri-miss; stored")
		r = e.do(http.MethodHead, "/head")
		expect(t, r, 200, "", "tiercache; hit")
		if r.header.Get("Content-Length") != "2" {
			t.Fatalf("HEAD hit Content-Length %q, want 2", r.header.Get("Content-Length"))
		}
		e.expectHits(2)
	})
}
