package httpcache

// Shared-cache hardening (WithShared(true)): one client's response
// metadata and credentials never reach another client or a shared tier.

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRFC9111_7_3_SharedCacheSetCookie(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name   string
			opts   []Option
			cc     string
			stored bool
		}{
			{"shared: refused", shared(), "max-age=60", false},
			{"shared: public allows it", shared(), "public, max-age=60", true},
			{"shared: s-maxage allows it", shared(), "s-maxage=60", true},
			{"private cache: stored as it is", nil, "max-age=60", true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil, tc.opts...)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", tc.cc)
					w.Header().Set("Set-Cookie", "sid="+itoa(e.hits.Load()))
					io.WriteString(w, "v"+itoa(e.hits.Load()))
				})
				first := e.get("/c")
				if first.header.Get("Set-Cookie") != "sid=1" {
					t.Fatalf("the client whose request set the cookie lost it: %v", first.header)
				}
				second := e.get("/c")
				if got := e.hits.Load() == 1; got != tc.stored {
					t.Fatalf("stored = %v, want %v (%s)", got, tc.stored, second.status())
				}
				if !tc.stored {
					return
				}
				stored, _, _ := e.m.Get(t.Context(), DefaultKey(mustRequest(t, e.srv.URL+"/c")))
				wantCookie := tc.opts == nil
				if has := stored.Header.Get("Set-Cookie") != ""; has != wantCookie {
					t.Fatalf("stored Set-Cookie = %v, want %v", has, wantCookie)
				}
				if has := second.header.Get("Set-Cookie") != ""; has != wantCookie {
					t.Fatalf("hit replays Set-Cookie = %v, want %v", has, wantCookie)
				}
			})
		}
	})
}

func TestRFC9111_7_3_SharedCache304SetCookie(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithShared(true))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=10")
			w.Header().Set("ETag", `"e"`)
			if r.Header.Get("If-None-Match") == `"e"` {
				w.Header().Set("Set-Cookie", "sid=2")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "x")
		})
		e.get("/c")
		e.clk.Advance(20 * time.Second)
		e.get("/c") // revalidated: the 304 carries a cookie
		if r := e.get("/c"); r.header.Get("Set-Cookie") != "" {
			t.Fatalf("a 304's Set-Cookie was stored and replayed: %v", r.header)
		}
	})
}

func TestRFC9110_4_2_4_UserinfoNotInKey(t *testing.T) {
	o := &fakeOrigin{handler: func(r *http.Request, n int) *http.Response {
		return textResponse(200, "v"+itoa(int64(n)), "Cache-Control: public, max-age=60")
	}}
	clk := newFakeClock()
	m := newMemManager(clk.Now)
	tr := New(m, WithClock(clk.Now), WithTransport(o), WithShared(true))
	defer tr.Close()
	for _, u := range []string{"http://alice:secret@example.com/a", "http://example.com/a", "http://bob:pw@example.com/a"} {
		if r := readResp(t, tr, mustRequest(t, u)); r.body != "v1" {
			t.Fatalf("%s: %q", u, r.body)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.m {
		if strings.Contains(k, "secret") || strings.Contains(v.resp.URL, "secret") || strings.Contains(v.resp.URL, "alice") {
			t.Fatalf("credentials reached the cache: key %q URL %q", k, v.resp.URL)
		}
	}
}

func TestRFC9111_2_KeyOfOpaqueURLHonoursHost(t *testing.T) {
	key := func(opaque, host string) string {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: "10.0.0.1", Opaque: opaque, RawQuery: "q=1"}, Host: host}
		return DefaultKey(req)
	}
	tests := []struct {
		a, b  [2]string
		equal bool
	}{
		{[2]string{"/a", "a.example"}, [2]string{"/a", "b.example"}, false},
		{[2]string{"//10.0.0.1/a", "a.example"}, [2]string{"//10.0.0.1/a", "b.example"}, false},
		{[2]string{"//10.0.0.1/a", "A.example:80"}, [2]string{"/a", "a.example"}, true},
		{[2]string{"/a", ""}, [2]string{"/b", ""}, false},
	}
	for _, tc := range tests {
		ka, kb := key(tc.a[0], tc.a[1]), key(tc.b[0], tc.b[1])
		if (ka == kb) != tc.equal {
			t.Errorf("%v %q vs %v %q: equal %v, want %v", tc.a, ka, tc.b, kb, ka == kb, tc.equal)
		}
	}
	if got := key("/a", "a.example"); got != "GET http://a.example/a?q=1" {
		t.Errorf("opaque key %q", got)
	}
	if got := key("/a", ""); got != DefaultKey(mustRequest(t, "http://10.0.0.1/a?q=1")) {
		t.Errorf("opaque and plain URLs of one resource differ: %q", got)
	}
}

// RFC 9111 §3.5: a shared cache never serves a response to one user's
// authenticated request to another user unless the response allows it.
func TestRFC9111_3_5_AuthorizationNotSharedAcrossUsers(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			cc      string
			allowed bool
		}{
			{"max-age=60", false},
			{"private, max-age=60", false},
			{"public, max-age=60", true},
			{"s-maxage=60", true},
			{"must-revalidate, max-age=60", true},
		}
		for _, tc := range tests {
			t.Run(tc.cc, func(t *testing.T) {
				e := k.env(t, nil, WithShared(true))
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", tc.cc)
					io.WriteString(w, "for "+r.Header.Get("Authorization"))
				})
				expect(t, e.get("/me", "Authorization: Bearer alice"), 200, "for Bearer alice", "tiercache; fwd=uri-miss")
				r := e.get("/me", "Authorization: Bearer bob")
				if got := r.body == "for Bearer alice"; got != tc.allowed {
					t.Fatalf("bob got %q (%s)", r.body, r.status())
				}
				if r := e.get("/me"); !tc.allowed && r.body == "for Bearer alice" {
					t.Fatalf("an anonymous request got alice's response")
				}
			})
		}
	})
}
