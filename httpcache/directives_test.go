package httpcache

import (
	"net/http"
	"testing"
	"time"
)

// TestRequestDirectives stores "v1" (max-age=60, ETag), ages it by age, then
// sends the request header and checks whether the origin was asked.
func TestRequestDirectives(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name    string
			age     time.Duration
			hdr     []string
			fromOrg bool
			status  string
		}{
			{"fresh", 10 * time.Second, nil, false, "tiercache; hit"},
			{"max-age=0", 10 * time.Second, []string{"Cache-Control: max-age=0"}, true, "tiercache; fwd=request; fwd-status=304"},
			{"max-age ok", 10 * time.Second, []string{"Cache-Control: max-age=20"}, false, "tiercache; hit"},
			{"max-age exceeded", 30 * time.Second, []string{"Cache-Control: max-age=20"}, true, "tiercache; fwd=request"},
			{"min-fresh ok", 10 * time.Second, []string{"Cache-Control: min-fresh=40"}, false, "tiercache; hit"},
			{"min-fresh too fresh", 30 * time.Second, []string{"Cache-Control: min-fresh=40"}, true, "tiercache; fwd=request"},
			{"stale", 70 * time.Second, nil, true, "tiercache; fwd=stale; fwd-status=304"},
			{"max-stale", 70 * time.Second, []string{"Cache-Control: max-stale=20"}, false, "tiercache; hit; ttl=-10"},
			{"max-stale exceeded", 90 * time.Second, []string{"Cache-Control: max-stale=20"}, true, "tiercache; fwd=stale"},
			{"bare max-stale", 900 * time.Second, []string{"Cache-Control: max-stale"}, false, "tiercache; hit"},
			{"no-cache", 10 * time.Second, []string{"Cache-Control: no-cache"}, true, "tiercache; fwd=request; fwd-status=304"},
			{"pragma no-cache", 10 * time.Second, []string{"Pragma: no-cache"}, true, "tiercache; fwd=request"},
			{"pragma ignored with cache-control", 10 * time.Second, []string{"Pragma: no-cache", "Cache-Control: max-stale=1"}, false, "tiercache; hit"},
			{"no-store served", 10 * time.Second, []string{"Cache-Control: no-store"}, false, "tiercache; hit"},
			{"only-if-cached hit", 10 * time.Second, []string{"Cache-Control: only-if-cached"}, false, "tiercache; hit"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", "max-age=60")
					w.Header().Set("ETag", `"1"`)
					if r.Header.Get("If-None-Match") == `"1"` {
						w.WriteHeader(http.StatusNotModified)
						return
					}
					w.Write([]byte("v1"))
				})
				e.get("/r")
				e.clk.Advance(tc.age)
				r := e.get("/r", tc.hdr...)
				expect(t, r, 200, "v1", tc.status)
				if got := e.hits.Load() == 2; got != tc.fromOrg {
					t.Fatalf("went to origin = %v, want %v (%s)", got, tc.fromOrg, r.status())
				}
			})
		}
	})
}

func TestRequestNoStoreNotStored(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		expect(t, e.get("/n", "Cache-Control: no-store"), 200, "v1", "tiercache; fwd=uri-miss")
		if e.m.len() != 0 {
			t.Fatal("response to a no-store request was stored")
		}
	})
}

func TestOnlyIfCachedMiss(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=60"))
		expect(t, e.get("/o", "Cache-Control: only-if-cached"), 504, "", "tiercache; detail=only-if-cached")
		e.expectHits(0)
		// A stale entry is not "consistent with the other constraints" either.
		e.setHandler(e.counter("Cache-Control: max-age=60", `ETag: "x"`))
		e.get("/o")
		e.clk.Advance(time.Minute + time.Second)
		expect(t, e.get("/o", "Cache-Control: only-if-cached"), 504, "", "tiercache; detail=only-if-cached")
		e.expectHits(1)
	})
}
