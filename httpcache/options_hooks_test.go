package httpcache

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// A POST busts the GET of the list it changes, once it succeeded; a GET
// busts before it is looked up.
func TestCacheBust(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var e *env
		e = k.env(t, nil, WithCacheBust(func(req *http.Request, key string) []string {
			switch {
			case req.Method == http.MethodPost && strings.HasSuffix(key, "/items"):
				return []string{DefaultKey(mustRequest(t, e.srv.URL+"/list"))}
			case req.URL.Path == "/refresh":
				return []string{DefaultKey(mustRequest(t, e.srv.URL+"/list"))}
			}
			return nil
		}))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=600")
			if r.URL.Query().Get("fail") != "" {
				w.WriteHeader(http.StatusBadRequest)
			}
			io.WriteString(w, "v"+itoa(e.hits.Load()))
		})
		e.get("/list")
		expect(t, e.get("/list"), 200, "v1", "tiercache; hit")
		expect(t, e.do(http.MethodPost, "/items?fail=1"), 400, "v2", "tiercache; fwd=method")
		expect(t, e.get("/list"), 200, "v1", "tiercache; hit") // a failed POST busts nothing
		e.do(http.MethodPost, "/items")
		expect(t, e.get("/list"), 200, "v4", "tiercache; fwd=uri-miss")
		e.get("/refresh")
		expect(t, e.get("/list"), 200, "v6", "tiercache; fwd=uri-miss")
	})
}

// A response mode function force-caches a no-store API's 200s and never
// caches its 5xx.
func TestResponseModeFunc(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithResponseModeFunc(func(req *http.Request, resp *http.Response) (Mode, bool) {
			switch {
			case resp.StatusCode >= 500:
				return ModeNoStore, true
			case strings.HasPrefix(req.URL.Path, "/slow"):
				return ModeForceCache, true
			}
			return 0, false
		}))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/err" {
				w.Header().Set("Cache-Control", "max-age=600")
				w.WriteHeader(http.StatusServiceUnavailable)
			} else {
				w.Header().Set("Cache-Control", "no-store")
			}
			io.WriteString(w, "v"+itoa(e.hits.Load()))
		})
		e.get("/slow")
		expect(t, e.get("/slow"), 200, "v1", "tiercache; hit")
		e.get("/fast")
		expect(t, e.get("/fast"), 200, "v3", "tiercache; fwd=uri-miss")
		e.get("/err")
		expect(t, e.get("/err"), 503, "v5", "tiercache; fwd=uri-miss")
		if got := e.tr.Stats().Refusals.NoStore; got != 4 {
			t.Fatalf("Refusals.NoStore = %d", got)
		}
	})
}

// The store hook changes what is stored, not what the origin's response
// gave the first caller.
func TestStoreHook(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithStoreHook(func(req *http.Request, resp *tiercache.Response) {
			resp.Header.Set("X-Stored-For", req.URL.Path)
			resp.Header.Del("X-Secret")
			resp.Body = append([]byte("cached "), resp.Body...)
		}))
		e.setHandler(e.counter("Cache-Control: max-age=1", `ETag: "e"`, "X-Secret: s"))
		first := e.get("/h")
		if first.body != "v1" || first.header.Get("X-Stored-For") != "" || first.header.Get("X-Secret") != "s" {
			t.Fatalf("first: %q %v", first.body, first.header)
		}
		r := e.get("/h")
		if r.body != "cached v1" || r.header.Get("X-Stored-For") != "/h" || r.header.Get("X-Secret") != "" {
			t.Fatalf("hit: %q %v", r.body, r.header)
		}
		// A 304 freshens the stored response: the hook runs again.
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Secret", "again")
			w.WriteHeader(http.StatusNotModified)
		})
		e.clk.Advance(2 * time.Second)
		e.get("/h")
		if r := e.get("/h"); r.header.Get("X-Secret") != "" || !strings.HasSuffix(r.body, "v1") {
			t.Fatalf("after a 304: %q %v", r.body, r.header)
		}
	})
}

// Metadata is stored with the entry, returned with every response served
// from it (and with the response being stored), and kept by a 304.
func TestMetadata(t *testing.T) {
	meta := map[string]string{"tenant": "acme"}
	var got atomic.Pointer[map[string]string]
	hook := func(req *http.Request, resp *http.Response) {
		m := Metadata(resp)
		got.Store(&m)
	}
	e := newEnv(t, nil, WithResponseHook(hook), WithMetadata(func(req *http.Request, resp *http.Response) map[string]string {
		if resp.Header.Get("X-Tenant") == "" {
			return nil
		}
		return map[string]string{"tenant": resp.Header.Get("X-Tenant")}
	}))
	e.setHandler(e.counter("Cache-Control: max-age=1", `ETag: "e"`, "X-Tenant: acme"))
	req := mustRequest(t, e.srv.URL+"/m")
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if m := Metadata(resp); !maps.Equal(m, meta) {
		t.Fatalf("response being stored: %v", m)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		e.do(method, "/m")
		if m := *got.Load(); !maps.Equal(m, meta) {
			t.Fatalf("%s hit: %v", method, m)
		}
	}
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.WriteHeader(http.StatusNotModified)
	})
	e.clk.Advance(2 * time.Second)
	expect(t, e.get("/m"), 200, "v1", "tiercache; fwd=stale; fwd-status=304")
	e.get("/m")
	if m := *got.Load(); !maps.Equal(m, meta) {
		t.Fatalf("after a 304: %v", m)
	}
	if Metadata(&http.Response{Body: http.NoBody}) != nil || Metadata(nil) != nil {
		t.Fatal("metadata from nowhere")
	}
}

// The rate limiter is consulted before every request to the origin and
// never for a hit; a refusal is answered as an unreachable origin.
func TestRateLimiter(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var waits atomic.Int64
		var refuse atomic.Bool
		e := k.env(t, nil, WithRateLimiter(RateLimiterFunc(func(ctx context.Context, req *http.Request) error {
			waits.Add(1)
			if !req.URL.IsAbs() {
				t.Errorf("limiter got a relative URL %v", req.URL)
			}
			if refuse.Load() {
				return errors.New("over the limit")
			}
			return nil
		})))
		e.setHandler(e.counter("Cache-Control: max-age=10, stale-if-error=600", `ETag: "e"`))
		e.get("/r")
		e.get("/r")
		e.do(http.MethodPost, "/other")
		if n := waits.Load(); n != 2 {
			t.Fatalf("limiter consulted %d times for a miss, a hit and a POST", n)
		}
		refuse.Store(true)
		e.clk.Advance(20 * time.Second)
		expect(t, e.get("/r"), 200, "v1", "tiercache; hit; fwd=stale; ttl=-10; detail=stale-if-error")
		if s := e.tr.Stats(); s.RateLimited != 1 {
			t.Fatalf("RateLimited = %d", s.RateLimited)
		}
		e.expectHits(2)
	})
}
