package httpcache

// Tests of update.go: RFC 9111 §4.3.4 (a 304 updates every stored response
// it selects) and §4.3.5 (freshening with HEAD).

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// variantOrigin serves GET /v varying on X-Lang with max-age=10 and the
// validator header pairs that validators returns for the language. A
// conditional request whose If-None-Match or If-Modified-Since equals the
// validator gets a 304 with max-age=100 and X-Rev: 2.
func variantOrigin(e *env, validators func(lang string) []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := r.Header.Get("X-Lang")
		w.Header().Set("Vary", "X-Lang")
		vs := validators(lang)
		match := false
		for _, kv := range vs {
			k, v, _ := cut(kv)
			w.Header().Set(k, v)
			switch k {
			case "ETag":
				match = match || r.Header.Get("If-None-Match") == v
			case "Last-Modified":
				match = match || r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == v
			}
		}
		if match {
			w.Header().Set("Cache-Control", "max-age=100")
			w.Header().Set("X-Rev", "2")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("X-Rev", "1")
		io.WriteString(w, lang+itoa(e.hits.Load()))
	}
}

func fixed(vs ...string) func(string) []string { return func(string) []string { return vs } }

// storeTwoVariants stores the variants a then b of /v (b one second later)
// and makes both stale.
func storeTwoVariants(t *testing.T, validators func(string) []string) *env {
	t.Helper()
	e := newEnv(t, nil)
	e.setHandler(variantOrigin(e, validators))
	expect(t, e.get("/v", "X-Lang: a"), 200, "a1", "tiercache; fwd=uri-miss; stored")
	e.clk.Advance(time.Second)
	expect(t, e.get("/v", "X-Lang: b"), 200, "b2", "tiercache; fwd=vary-miss; stored")
	e.clk.Advance(20 * time.Second)
	return e
}

func TestRFC9111_4_3_4_StrongValidatorUpdatesAllVariants(t *testing.T) {
	e := storeTwoVariants(t, fixed(`ETag: "same"`))
	expect(t, e.get("/v", "X-Lang: a"), 200, "a1", "tiercache; fwd=stale; fwd-status=304; stored; ttl=100")
	e.expectHits(3)
	// b was updated by the same 304: fresh, with the 304's fields.
	r := e.get("/v", "X-Lang: b")
	expect(t, r, 200, "b2", "tiercache; hit; ttl=100")
	if r.header.Get("X-Rev") != "2" {
		t.Fatalf("variant b not updated: %v", r.header)
	}
	e.expectHits(3)
}

func TestRFC9111_4_3_4_StrongValidatorSkipsOtherVariants(t *testing.T) {
	e := storeTwoVariants(t, func(lang string) []string { return []string{`ETag: "` + lang + `"`} })
	expect(t, e.get("/v", "X-Lang: a"), 200, "a1", "tiercache; fwd=stale; fwd-status=304")
	// b has another strong validator: not updated, still stale.
	r := e.get("/v", "X-Lang: b")
	expect(t, r, 200, "b2", "tiercache; fwd=stale; fwd-status=304")
	e.expectHits(4)
}

func TestRFC9111_4_3_4_WeakValidatorUpdatesMostRecent(t *testing.T) {
	t.Run("validated variant is the most recent", func(t *testing.T) {
		e := storeTwoVariants(t, fixed(`ETag: W/"w"`))
		expect(t, e.get("/v", "X-Lang: b"), 200, "b2", "tiercache; fwd=stale; fwd-status=304; stored")
		// a was not updated, and b, just updated, is now the most recent:
		// a's own 304 selects b again, so a is fetched in full.
		expect(t, e.get("/v", "X-Lang: a"), 200, "a5", "tiercache; fwd=stale; fwd-status=200; stored")
		e.expectHits(5)
	})
	t.Run("another variant is more recent", func(t *testing.T) {
		e := storeTwoVariants(t, fixed(`ETag: W/"w"`))
		// The 304 selects b (more recent): b is updated; a is fetched in full.
		expect(t, e.get("/v", "X-Lang: a"), 200, "a4", "tiercache; fwd=stale; fwd-status=200; stored")
		e.expectHits(4)
		r := e.get("/v", "X-Lang: b")
		expect(t, r, 200, "b2", "tiercache; hit")
		if r.header.Get("X-Rev") != "2" {
			t.Fatalf("most recent variant not updated: %v", r.header)
		}
		e.expectHits(4)
	})
}

func TestRFC9111_4_3_4_LastModified(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// The origin's Date is the fake clock's now: one hour after
		// Last-Modified, so Last-Modified is a strong validator (RFC 9110
		// §8.8.2.2) and updates every variant with it.
		lm := "Sun, 01 Mar 2026 11:00:00 GMT"
		e := storeTwoVariants(t, fixed("Last-Modified: "+lm))
		expect(t, e.get("/v", "X-Lang: a"), 200, "a1", "tiercache; fwd=stale; fwd-status=304; stored")
		expect(t, e.get("/v", "X-Lang: b"), 200, "b2", "tiercache; hit; ttl=100")
		e.expectHits(3)

		// Last-Modified within the second of Date is weak: only the most
		// recent variant is updated.
		e = k.env(t, nil)
		e.setHandler(variantOrigin(e, fixed("Last-Modified: "+e.clk.Now().Format(http.TimeFormat))))
		e.get("/v", "X-Lang: a")
		e.get("/v", "X-Lang: b") // same second: equally recent, Last-Modified equal
		e.clk.Advance(20 * time.Second)
		expect(t, e.get("/v", "X-Lang: a"), 200, "a1", "tiercache; fwd=stale; fwd-status=304; stored")
		expect(t, e.get("/v", "X-Lang: b"), 200, "b5", "tiercache; fwd=stale; fwd-status=200") // a, updated, is the most recent
	})
}

func TestRFC9111_4_3_4_NoValidatorUpdatesValidatedOnly(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "X-Lang")
			if r.Header.Get("If-None-Match") != "" {
				w.Header().Set("Cache-Control", "max-age=100") // no ETag in the 304
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("ETag", `"e"`)
			io.WriteString(w, r.Header.Get("X-Lang"))
		})
		e.get("/v", "X-Lang: a")
		e.get("/v", "X-Lang: b")
		e.clk.Advance(20 * time.Second)
		expect(t, e.get("/v", "X-Lang: a"), 200, "a", "tiercache; fwd=stale; fwd-status=304; stored; ttl=100")
		expect(t, e.get("/v", "X-Lang: b"), 200, "b", "tiercache; fwd=stale; fwd-status=304")
	})
}

func TestVariantIndexListsVariants(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(variantOrigin(e, fixed(`ETag: "x"`)))
		for i := range maxListedVariants + 3 {
			e.get("/v", "X-Lang: l"+strconv.Itoa(i))
		}
		idx, _, _ := e.m.Get(t.Context(), "GET "+e.srv.URL+"/v")
		if idx == nil || len(listedVariants(idx.Header)) != maxListedVariants {
			t.Fatalf("index %v", idx)
		}
	})
}

// headOrigin serves GET /h (max-age=10, Content-Length 4) and answers HEAD
// with head's header pairs and max-age=100, X-Rev: 2.
func headOrigin(e *env, get []string, head ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			for _, kv := range head {
				k, v, _ := cut(kv)
				w.Header().Set(k, v)
			}
			w.Header().Set("Cache-Control", "max-age=100")
			w.Header().Set("X-Rev", "2")
			return
		}
		for _, kv := range get {
			k, v, _ := cut(kv)
			w.Header().Set(k, v)
		}
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Content-Length", "4")
		io.WriteString(w, "body")
	}
}

func TestRFC9111_4_3_5_FreshenWithHEAD(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name    string
			get     []string
			head    []string
			headReq []string
			age     time.Duration
			updated bool
		}{
			{"same ETag and length", []string{`ETag: "e"`}, []string{`ETag: "e"`, "Content-Length: 4"}, nil, 20 * time.Second, true},
			{"same Last-Modified", []string{"Last-Modified: Sat, 28 Feb 2026 12:00:00 GMT"}, []string{"Last-Modified: Sat, 28 Feb 2026 12:00:00 GMT"}, nil, 20 * time.Second, true},
			{"no validators, request no-cache", nil, []string{"Content-Length: 4"}, []string{"Cache-Control: no-cache"}, 5 * time.Second, true},
			{"other ETag", []string{`ETag: "e"`}, []string{`ETag: "f"`, "Content-Length: 4"}, nil, 20 * time.Second, false},
			{"other length", []string{`ETag: "e"`}, []string{`ETag: "e"`, "Content-Length: 5"}, nil, 20 * time.Second, false},
			{"ETag the stored response lacks", nil, []string{`ETag: "e"`}, []string{"Cache-Control: no-cache"}, 5 * time.Second, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(headOrigin(e, tc.get, tc.head...))
				e.get("/h")
				e.clk.Advance(tc.age)
				r := e.do(http.MethodHead, "/h", tc.headReq...)
				if r.code != 200 || r.header.Get("X-Rev") != "2" {
					t.Fatalf("HEAD: %d %v", r.code, r.header)
				}
				e.expectHits(2)
				r = e.get("/h")
				if !tc.updated {
					expect(t, r, 200, "body", "tiercache; fwd=uri-miss")
					e.expectHits(3)
					return
				}
				expect(t, r, 200, "body", "tiercache; hit; ttl=100")
				if r.header.Get("X-Rev") != "2" || r.header.Get("Content-Length") != "4" {
					t.Fatalf("stored GET response not updated: %v", r.header)
				}
				e.expectHits(2)
			})
		}
	})
}

func TestRFC9111_4_3_5_HEADReloadUpdates(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithMode(ModeReload))
		e.setHandler(headOrigin(e, []string{`ETag: "e"`}, `ETag: "e"`))
		e.get("/h")
		e.do(http.MethodHead, "/h")
		e.tr.opts.mode = ModeDefault
		r := e.get("/h")
		expect(t, r, 200, "body", "tiercache; hit; ttl=100")
		e.expectHits(2)
	})
}
