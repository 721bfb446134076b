package httpcache

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// statsOrigin serves paths with different caching rules.
func statsOrigin(e *env) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch r.URL.Path {
		case "/fresh":
			h.Set("Cache-Control", "max-age=60")
		case "/etag":
			h.Set("Cache-Control", "max-age=10")
			h.Set("ETag", `"e"`)
			if r.Header.Get("If-None-Match") == `"e"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		case "/nostore":
			h.Set("Cache-Control", "no-store")
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
		case "/sie":
			h.Set("Cache-Control", "max-age=10, stale-if-error=600")
			h.Set("ETag", `"s"`)
			if e.hits.Load() > 1 && r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
		}
		if r.Method != http.MethodPost {
			io.WriteString(w, "hello")
		}
	}
}

func TestStats(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(statsOrigin(e))
		steps := []struct {
			method, path string
			hdr          []string
			advance      time.Duration
		}{
			{"GET", "/fresh", nil, 0},                                                // miss, stored, 5 bytes from origin
			{"GET", "/fresh", nil, 0},                                                // hit, 5 bytes from cache
			{"HEAD", "/fresh", nil, 0},                                               // hit, no body
			{"GET", "/fresh", []string{"Range: bytes=1-2"}, 0},                       // hit, 2 bytes
			{"GET", "/fresh", []string{"If-Match: *"}, 0},                            // bypass, stored again, 5 from origin
			{"POST", "/fresh", nil, 0},                                               // uncacheable
			{"GET", "/nostore", nil, 0},                                              // miss, refused (no-store), 5
			{"GET", "/error", nil, 0},                                                // miss, refused (uncacheable), 5
			{"GET", "/etag", nil, 0},                                                 // miss, stored, 5
			{"GET", "/etag", nil, 20 * time.Second},                                  // revalidated (304), stored, 5 from cache
			{"GET", "/etag", []string{"Cache-Control: max-stale"}, 20 * time.Second}, // stale hit, 5
			{"GET", "/sie", nil, 0},                                                  // miss, stored, 5
			{"GET", "/sie", nil, 20 * time.Second},                                   // 502: stale on error, 5 from cache
			{"GET", "/nothing", []string{"Cache-Control: only-if-cached"}, 0},        // 504: miss
		}
		for i, s := range steps {
			e.clk.Advance(s.advance)
			r := e.do(s.method, s.path, s.hdr...)
			if r.code >= 500 && s.path != "/error" && s.path != "/nothing" {
				t.Fatalf("step %d: %d %s", i, r.code, r.status())
			}
		}
		e.killOrigin()
		if _, err := e.roundTrip(mustRequest(t, e.srv.URL+"/down")); err == nil {
			t.Fatal("dead origin: no error")
		}
		got := e.tr.Stats()
		want := Stats{
			Hits: 3, StaleHits: 1, Revalidations: 1, Misses: 6, Uncacheable: 1, Bypasses: 1,
			StaleOnError: 1, OriginErrors: 1,
			BytesFromCache:  5 + 2 + 5 + 5 + 5,
			BytesFromOrigin: 5 * 6,
			Stores:          5,
			Refusals:        StoreRefusals{NoStore: 1, Uncacheable: 1},
		}
		lat := got.OriginLatency
		got.OriginLatency = want.OriginLatency
		if got != want {
			t.Fatalf("Stats\n got %+v\nwant %+v", got, want)
		}
		// Every origin request is timed: 9 answered, 1 failed.
		if lat.Samples != 10 || lat.Max <= 0 || lat.P50 > lat.Max || lat.Mean > lat.Max {
			t.Fatalf("OriginLatency %+v", lat)
		}
	})
}

func TestStatsRefusalReasons(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithShared(true), WithMaxBodySize(4))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			switch r.URL.Path {
			case "/private":
				h.Set("Cache-Control", "private, max-age=60")
			case "/cookie":
				h.Set("Cache-Control", "max-age=60")
				h.Set("Set-Cookie", "a=b")
			case "/star":
				h.Set("Cache-Control", "max-age=60")
				h.Set("Vary", "*")
			case "/big":
				h.Set("Cache-Control", "max-age=60")
			case "/zero":
				h.Set("Cache-Control", "max-age=0")
			}
			io.WriteString(w, "abc")
			if r.URL.Path == "/big" {
				io.WriteString(w, "defgh")
			}
		})
		for _, p := range []string{"/private", "/cookie", "/star", "/big", "/zero"} {
			e.get(p)
		}
		e.get("/private", "Authorization: Basic eDp5")
		e.get("/zero", "Cache-Control: no-store")
		want := StoreRefusals{Private: 1, Authorization: 1, SetCookie: 1, VaryStar: 1, TooLarge: 1, NotRetained: 1, NoStore: 1}
		if got := e.tr.Stats().Refusals; got != want {
			t.Fatalf("Refusals\n got %+v\nwant %+v", got, want)
		}
	})
}

func TestWithLogger(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var buf bytes.Buffer
		l := slog.New(slog.NewTextHandler(&buf, nil))
		e := k.env(t, nil, WithLogger(l))
		e.setHandler(e.counter("Cache-Control: max-age=1, stale-if-error=600", `ETag: "x"`))
		e.get("/l")
		e.clk.Advance(10 * time.Second)
		e.killOrigin()
		for range 3 {
			expect(t, e.get("/l"), 200, "v1", "tiercache; hit; fwd=stale")
		}
		out := buf.String()
		if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "serving a stale response") || !strings.Contains(out, "/l") {
			t.Fatalf("log (rate-limited to one line):\n%s", out)
		}
	})
}

func TestWithLoggerRefreshFailure(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	tr, clk := swrTransport(t, func(r *http.Request) (*http.Response, error) {
		return textResponse(503, "down"), nil
	}, WithLogger(l))
	req := mustRequest(t, "http://example.com/r")
	readResp(t, tr, req)
	clk.Advance(10 * time.Second)
	readResp(t, tr, req)
	waitBackground(t, tr, "refresh")
	if out := buf.String(); !strings.Contains(out, "background revalidation failed") || !strings.Contains(out, "status=503") {
		t.Fatalf("log:\n%s", out)
	}
	if s := tr.Stats(); s.RefreshErrors != 1 {
		t.Fatalf("stats %+v", s)
	}
}
