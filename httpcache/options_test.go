package httpcache

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestModes(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// Each case: the entry "v1" (max-age=10, ETag) is aged by age, then the
		// request is sent in mode.
		tests := []struct {
			name   string
			mode   Mode
			age    time.Duration
			body   string
			code   int
			hits   int64
			status string
		}{
			{"Default fresh", ModeDefault, 0, "v1", 200, 1, "tiercache; hit"},
			{"NoStore", ModeNoStore, 0, "v2", 200, 2, "tiercache; fwd=bypass"},
			{"Reload", ModeReload, 0, "v2", 200, 2, "tiercache; fwd=request; stored"},
			{"NoCache", ModeNoCache, 0, "v1", 200, 2, "tiercache; fwd=request; fwd-status=304"},
			{"ForceCache stale", ModeForceCache, time.Hour, "v1", 200, 1, "tiercache; hit; ttl=-3590"},
			{"OnlyIfCached stale", ModeOnlyIfCached, time.Hour, "v1", 200, 1, "tiercache; hit"},
			{"IgnoreRules stale", ModeIgnoreRules, time.Hour, "v1", 200, 1, "tiercache; hit"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var mode Mode
				e := k.env(t, nil, WithModeFunc(func(*http.Request) Mode { return mode }))
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", "max-age=10")
					w.Header().Set("ETag", `"1"`)
					if r.Header.Get("If-None-Match") == `"1"` {
						w.WriteHeader(http.StatusNotModified)
						return
					}
					io.WriteString(w, "v"+itoa(e.hits.Load()))
				})
				e.get("/m")
				e.clk.Advance(tc.age)
				mode = tc.mode
				expect(t, e.get("/m"), tc.code, tc.body, tc.status)
				e.expectHits(tc.hits)
			})
		}
	})
}

func TestModeMisses(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithMode(ModeOnlyIfCached))
		e.setHandler(e.counter("Cache-Control: max-age=10"))
		expect(t, e.get("/x"), 504, "", "tiercache; detail=only-if-cached")
		e.expectHits(0)

		e = k.env(t, nil, WithMode(ModeIgnoreRules), WithMaxTTL(time.Minute))
		e.setHandler(e.counter("Cache-Control: no-store, private"))
		expect(t, e.get("/x"), 200, "v1", "tiercache; fwd=uri-miss; stored; ttl=60")
		e.clk.Advance(59 * time.Second)
		expect(t, e.get("/x"), 200, "v1", "tiercache; hit")
		e.clk.Advance(2 * time.Second)
		expect(t, e.get("/x"), 200, "v2", "tiercache; fwd=uri-miss")

		e = k.env(t, nil, WithMode(ModeNoStore))
		e.setHandler(e.counter("Cache-Control: max-age=10"))
		e.get("/x")
		if e.m.len() != 0 {
			t.Fatal("ModeNoStore stored a response")
		}
	})
}

func TestCacheStatusOptions(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithCacheName("edge 1"))
		e.setHandler(e.counter("Cache-Control: max-age=10", "Cache-Status: upstream; hit"))
		r := e.get("/s")
		if got := r.header.Values("Cache-Status"); len(got) != 2 || got[0] != "upstream; hit" || !strings.HasPrefix(got[1], `"edge 1"; fwd=uri-miss`) {
			t.Fatalf("Cache-Status = %q", got)
		}
		if got := e.get("/s").header.Values("Cache-Status"); len(got) != 1 || got[0] != `"edge 1"; hit; ttl=10` {
			t.Fatalf("Cache-Status of a hit = %q (upstream members are not stored)", got)
		}
		e = k.env(t, nil, WithCacheStatus(false))
		e.setHandler(e.counter("Cache-Control: max-age=10"))
		e.get("/s")
		if r := e.get("/s"); r.status() != "" || e.hits.Load() != 1 {
			t.Fatalf("Cache-Status %q with WithCacheStatus(false)", r.status())
		}
	})
}

func TestKeyFuncAndResponseHook(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var hooked []string
		e := k.env(t, nil,
			WithKeyFunc(func(r *http.Request) string { return r.Method + " " + r.URL.Path }), // ignore the query
			WithResponseHook(func(r *http.Request, resp *http.Response) {
				hooked = append(hooked, r.URL.RawQuery)
				resp.Header.Set("X-From-Cache", "1")
			}))
		e.setHandler(e.counter("Cache-Control: max-age=10"))
		e.get("/k?a=1")
		r := e.get("/k?a=2")
		expect(t, r, 200, "v1", "tiercache; hit")
		if r.header.Get("X-From-Cache") != "1" || len(hooked) != 1 || hooked[0] != "a=2" {
			t.Fatalf("hook: %v %v", hooked, r.header)
		}
		if _, ok := e.m.m["GET /k"]; !ok {
			t.Fatalf("keys %v", e.m.m)
		}
	})
}

func TestStoreAlwaysErrors(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		var mu sync.Mutex
		var errs []error
		e := k.env(t, nil, WithErrorHook(func(r *http.Request, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}))
		e.m.fail.Store(true)
		e.setHandler(e.counter("Cache-Control: max-age=10", "Vary: Accept"))
		// Cache-Status tells the truth: nothing was stored.
		expect(t, e.get("/e"), 200, "v1", "tiercache; fwd=uri-miss; ttl=10; detail=cache-error")
		expect(t, e.get("/e"), 200, "v2", "tiercache; fwd=uri-miss")
		e.do(http.MethodPost, "/e")
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 4 {
			t.Fatalf("errors reported: %v", errs)
		}
		for _, err := range errs {
			if !errorsIs(err, ErrCache) || !errorsIs(err, errBroken) {
				t.Fatalf("error %v does not wrap ErrCache and the store's error", err)
			}
		}
	})
}

func TestCollapse(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		for _, storable := range []bool{true, false} {
			t.Run(map[bool]string{true: "storable", false: "not storable"}[storable], func(t *testing.T) {
				e := k.env(t, nil)
				gate := make(chan struct{})
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					<-gate
					if storable {
						w.Header().Set("Cache-Control", "max-age=10")
					} else {
						w.Header().Set("Cache-Control", "no-store")
					}
					io.WriteString(w, "c")
				})
				const n = 8
				var wg sync.WaitGroup
				statuses := make([]string, n)
				for i := range n {
					wg.Go(func() { statuses[i] = e.get("/c").status() })
				}
				for e.tr.waiters("GET "+e.srv.URL+"/c") < n-1 || e.hits.Load() < 1 {
					time.Sleep(time.Millisecond)
				}
				close(gate)
				wg.Wait()
				want := int64(1)
				if !storable {
					want = n
				}
				if got := e.hits.Load(); got != want {
					t.Fatalf("origin hits %d, want %d; statuses %q", got, want, statuses)
				}
				collapsed := 0
				for _, s := range statuses {
					if strings.Contains(s, "; collapsed") {
						collapsed++
					}
				}
				if storable && collapsed != n-1 {
					t.Fatalf("%d collapsed, want %d: %q", collapsed, n-1, statuses)
				}
				if s := e.tr.Stats(); s.Collapsed != uint64(collapsed) || s.Collapsed+s.Misses != n {
					t.Fatalf("stats: %d collapsed, %d misses; want %d and %d", s.Collapsed, s.Misses, collapsed, n-collapsed)
				}
			})
		}
	})
}

func TestCollapseTimeout(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithCollapseTimeout(10*time.Millisecond))
		gate := make(chan struct{})
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if e.hits.Load() == 1 {
				<-gate
			}
			w.Header().Set("Cache-Control", "max-age=10")
			io.WriteString(w, "t")
		})
		done := make(chan struct{})
		go func() { e.get("/t"); close(done) }()
		for e.tr.flightCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		expect(t, e.get("/t"), 200, "t", "tiercache; fwd=uri-miss") // gave up waiting
		close(gate)
		<-done
	})
}

func TestModeStringAndDefaultKey(t *testing.T) {
	if ModeForceCache.String() != "ForceCache" || Mode(42).String() != "Mode(42)" {
		t.Fatal(ModeForceCache.String(), Mode(42).String())
	}
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/a?b=c#frag", nil)
	if got := DefaultKey(req); got != "GET https://example.com/a?b=c" {
		t.Fatalf("DefaultKey = %q", got)
	}
}

func TestUnstorableReplacementDeletesStale(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(e.counter("Cache-Control: max-age=1", `ETag: "1"`))
		e.get("/u")
		e.setHandler(e.counter("Cache-Control: no-store"))
		e.clk.Advance(2 * time.Second)
		expect(t, e.get("/u"), 200, "v2", "tiercache; fwd=stale; fwd-status=200")
		if e.m.len() != 0 {
			t.Fatal("the superseded entry was kept")
		}
	})
}
