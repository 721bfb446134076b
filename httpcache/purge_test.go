package httpcache

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// tagged answers with the tags of its path and a body naming the path and
// the origin's request count.
func tagged(e *env) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		switch r.URL.Path {
		case "/a":
			w.Header().Set("Surrogate-Key", "t1 t2")
		case "/b":
			w.Header().Add("Cache-Tag", "t2,t3")
			w.Header().Add("Cache-Tag", "t4")
		case "/c":
			w.Header().Set("Surrogate-Key", "t3")
		}
		io.WriteString(w, r.URL.Path+" v"+itoa(e.hits.Load()))
	}
}

func TestPurgeTag(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithPurge(true))
		e.setHandler(tagged(e))
		for _, p := range []string{"/a", "/b", "/c"} {
			r := e.get(p)
			if r.header.Get("Surrogate-Key") != "" || r.header.Get("Cache-Tag") != "" {
				t.Fatalf("%s: tag fields reached the client: %v", p, r.header)
			}
			if r = e.get(p); !strings.HasPrefix(r.status(), "tiercache; hit") || r.header.Get("Surrogate-Key")+r.header.Get("Cache-Tag") != "" {
				t.Fatalf("%s: %s %v", p, r.status(), r.header)
			}
		}
		if err := e.tr.PurgeTag(t.Context(), "t2"); err != nil {
			t.Fatal(err)
		}
		expect(t, e.get("/a"), 200, "/a v4", "tiercache; fwd=miss; stored; ttl=600; detail=purged")
		expect(t, e.get("/b"), 200, "/b v5", "tiercache; fwd=miss")
		expect(t, e.get("/c"), 200, "/c v3", "tiercache; hit")
		expect(t, e.get("/a"), 200, "/a v4", "tiercache; hit") // stored again with the new generation
		if s := e.tr.Stats(); s.Purges != 1 || s.Purged != 2 {
			t.Fatalf("stats %+v", s)
		}
		for _, bad := range []string{"", "a b", "a,b"} {
			if err := e.tr.PurgeTag(t.Context(), bad); !errors.Is(err, tiercache.ErrInvalid) {
				t.Errorf("PurgeTag(%q) = %v", bad, err)
			}
		}
	})
}

func TestPurgeKeepTagHeaders(t *testing.T) {
	e := newEnv(t, nil, WithPurge(true), WithKeepTagHeaders(true), WithTagHeaders("X-Tags"))
	e.setHandler(e.counter("Cache-Control: max-age=60", "X-Tags: x", "Surrogate-Key: y"))
	e.get("/k")
	if r := e.get("/k"); r.header.Get("X-Tags") != "x" || r.header.Get("Surrogate-Key") != "y" {
		t.Fatalf("header %v", r.header)
	}
	e.tr.PurgeTag(t.Context(), "y") // not a tag field here
	expect(t, e.get("/k"), 200, "v1", "tiercache; hit")
	e.tr.PurgeTag(t.Context(), "x")
	expect(t, e.get("/k"), 200, "v2", "tiercache; fwd=miss")
}

func TestPurgeURL(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithPurge(true))
		e.setHandler(e.counter("Cache-Control: max-age=600", "Vary: X-V"))
		other := "/w"
		key := func(p string) string { return DefaultKey(mustRequest(t, e.srv.URL+p)) }
		for urlBucketHash(key(other)) == urlBucketHash(key("/v")) {
			other += "w"
		}
		e.get("/v", "X-V: 1")
		e.get("/v", "X-V: 2")
		e.get(other, "X-V: 1")
		if err := e.tr.PurgeURL(t.Context(), e.srv.URL+"/v"); err != nil {
			t.Fatal(err)
		}
		if k == kindMiddleware {
			if err := e.mw.PurgeURL(t.Context(), e.srv.URL+"/v"); err != nil { // both schemes
				t.Fatal(err)
			}
		}
		expect(t, e.get("/v", "X-V: 1"), 200, "v4", "tiercache; fwd=uri-miss")
		expect(t, e.get("/v", "X-V: 2"), 200, "v5", "tiercache; fwd=")
		expect(t, e.get(other, "X-V: 1"), 200, "v3", "tiercache; hit")
		if err := e.tr.PurgeURL(t.Context(), "/relative"); !errors.Is(err, tiercache.ErrInvalid) {
			t.Fatalf("relative URL: %v", err)
		}
	})
}

// Without WithPurge, PurgeTag fails and PurgeURL deletes through the
// Manager.
func TestPurgeDisabled(t *testing.T) {
	e := newEnv(t, nil)
	e.setHandler(e.counter("Cache-Control: max-age=600", "Surrogate-Key: t"))
	if r := e.get("/d"); r.header.Get("Surrogate-Key") != "t" {
		t.Fatal("tag field stripped without WithPurge")
	}
	if err := e.tr.PurgeTag(t.Context(), "t"); !errors.Is(err, ErrPurgeDisabled) {
		t.Fatalf("PurgeTag: %v", err)
	}
	if err := e.tr.PurgeURL(t.Context(), e.srv.URL+"/d"); err != nil {
		t.Fatal(err)
	}
	expect(t, e.get("/d"), 200, "v2", "tiercache; fwd=uri-miss")
	if e.m.len() != 1 {
		t.Fatalf("%d entries: generations written without WithPurge", e.m.len())
	}
}

// A purge costs one write, whatever the number of tagged entries.
func TestPurgeIsOneWrite(t *testing.T) {
	e := newEnv(t, nil, WithPurge(true))
	e.setHandler(e.counter("Cache-Control: max-age=600", "Surrogate-Key: all"))
	for i := range 200 {
		e.get("/" + itoa(int64(i)))
	}
	puts := e.m.puts.Load()
	if err := e.tr.PurgeTag(t.Context(), "all"); err != nil {
		t.Fatal(err)
	}
	if n := e.m.puts.Load() - puts; n != 1 {
		t.Fatalf("PurgeTag wrote %d entries", n)
	}
	expect(t, e.get("/7"), 200, "v201", "tiercache; fwd=miss")
}

// A response whose request was sent before a purge of its tag is not
// stored, even though it arrives after the purge.
func TestPurgeInFlightNotStored(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		arrived, release := make(chan struct{}), make(chan struct{})
		e := k.env(t, nil, WithPurge(true))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if e.hits.Load() == 1 {
				arrived <- struct{}{}
				<-release
			}
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Surrogate-Key", "p")
			io.WriteString(w, "v"+itoa(e.hits.Load()))
		})
		done := make(chan result)
		go func() { done <- e.get("/i") }()
		<-arrived
		e.clk.Advance(time.Second) // the purge happens after the request was sent
		if err := e.tr.PurgeTag(t.Context(), "p"); err != nil {
			t.Fatal(err)
		}
		close(release)
		if r := <-done; r.body != "v1" || strings.Contains(r.status(), "stored") {
			t.Fatalf("in-flight response: %q %s", r.body, r.status())
		}
		expect(t, e.get("/i"), 200, "v2", "tiercache; fwd=uri-miss")
		if got := e.tr.Stats().Refusals.Purged; got != 1 {
			t.Fatalf("Refusals.Purged = %d", got)
		}
	})
}

// A lost generation (evicted, expired) gets a new one: the entries that
// recorded the old one are never served again.
func TestPurgeGenerationLost(t *testing.T) {
	e := newEnv(t, nil, WithPurge(true))
	e.setHandler(e.counter("Cache-Control: max-age=600", "Surrogate-Key: lost"))
	e.get("/l")
	expect(t, e.get("/l"), 200, "v1", "tiercache; hit")
	e.m.Delete(t.Context(), purgeKey(tagHash("lost")))
	e.clk.Advance(DefaultPurgeMaxAge)
	expect(t, e.get("/l"), 200, "v2", "tiercache; fwd=miss")
	expect(t, e.get("/l"), 200, "v2", "tiercache; hit")
}

// A purge store that fails makes tagged entries misses (never served
// unchecked), refuses to store tagged responses, and reports.
func TestPurgeStoreFails(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	gens := newMemManager(time.Now)
	e := newEnv(t, nil, WithPurge(true), WithPurgeStore(gens), WithErrorHook(func(_ *http.Request, err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	e.setHandler(e.counter("Cache-Control: max-age=600", "Surrogate-Key: f"))
	e.get("/f")
	expect(t, e.get("/f"), 200, "v1", "tiercache; hit")
	gens.fail.Store(true)
	e.clk.Advance(DefaultPurgeMaxAge)
	expect(t, e.get("/f"), 200, "v2", "tiercache; fwd=miss; detail=cache-error") // v2 is not stored
	expect(t, e.get("/f"), 200, "v3", "tiercache; fwd=miss; detail=cache-error")
	if err := e.tr.PurgeTag(t.Context(), "f"); !errors.Is(err, ErrCache) || !errors.Is(err, errBroken) {
		t.Fatalf("PurgeTag on a broken store: %v", err)
	}
	s := e.tr.Stats()
	mu.Lock()
	defer mu.Unlock()
	if s.PurgeErrors == 0 || len(reported) == 0 || !errors.Is(reported[0], ErrCache) || s.Refusals.Errors == 0 {
		t.Fatalf("stats %+v, reported %v", s, reported)
	}
}

func TestPurgeTooManyTags(t *testing.T) {
	tags := make([]string, MaxTags+1)
	for i := range tags {
		tags[i] = "t" + itoa(int64(i))
	}
	e := newEnv(t, nil, WithPurge(true))
	e.setHandler(e.counter("Cache-Control: max-age=600", "Surrogate-Key: "+strings.Join(tags, " ")))
	e.get("/m")
	expect(t, e.get("/m"), 200, "v2", "tiercache; fwd=uri-miss")
	if got := e.tr.Stats().Refusals.Tags; got != 2 {
		t.Fatalf("Refusals.Tags = %d", got)
	}
}

// A malformed purge record is never taken as current.
func TestPurgeRecordMalformed(t *testing.T) {
	e := newEnv(t, nil, WithPurge(true))
	pol := tiercache.NewTTLPolicy(time.Hour)
	for _, rec := range [][]byte{{purgeRecordV1, 1, 2}, {9}, append([]byte{2}, make([]byte, 16)...)} {
		if e.tr.purge.check(nil, pol.WithExtension(tiercache.ExtensionPurge, rec), time.Now()) != checkPurged {
			t.Errorf("record %x is usable", rec)
		}
	}
	if e.tr.purge.check(nil, pol, time.Now()) != checkCurrent {
		t.Error("an entry without a record is not usable")
	}
}

func TestAppendTags(t *testing.T) {
	h := http.Header{"Surrogate-Key": {" a  b\tc ", "a"}, "Cache-Tag": {"d,e, f"}, "Other": {"g"}}
	got, ok := appendTags(nil, h, DefaultTagHeaders())
	want := []uint64{tagHash("a"), tagHash("b"), tagHash("c"), tagHash("d"), tagHash("e"), tagHash("f")}
	if !ok || len(got) != len(want) {
		t.Fatalf("%v %v", got, ok)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tag %d", i)
		}
	}
	if _, ok := appendTags(nil, http.Header{"Cache-Tag": {strings.Repeat("x", MaxTagLength+1)}}, DefaultTagHeaders()); ok {
		t.Fatal("an over-long tag was accepted")
	}
	if h, ok := hashOfKey(purgeKey(7)); !ok || h != 7 {
		t.Fatalf("hashOfKey(purgeKey(7)) = %d %v", h, ok)
	}
}

func TestPurgeHandler(t *testing.T) {
	e := newEnv(t, nil, WithPurge(true))
	e.setHandler(tagged(e))
	e.get("/a")
	e.get("/c")
	allow := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer ok" }
	tests := []struct {
		name      string
		authorize func(*http.Request) bool
		method    string
		hdr       []string
		code      int
	}{
		{"no authorize: nobody", nil, "PURGE", []string{"Authorization: Bearer ok", "Surrogate-Key: t1"}, 403},
		{"refused", allow, "PURGE", []string{"Surrogate-Key: t1"}, 403},
		{"wrong method", allow, http.MethodPost, []string{"Authorization: Bearer ok"}, 405},
		{"empty tag field: the URL", allow, "PURGE", []string{"Authorization: Bearer ok", "Cache-Tag: ,"}, 200},
		{"tag", allow, "PURGE", []string{"Authorization: Bearer ok", "Surrogate-Key: t1"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := purgeRecorder(t, PurgeHandler(e.tr, tc.authorize), tc.method, "http://example.com/x", tc.hdr...)
			if rec.Code != tc.code {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
	expect(t, e.get("/a"), 200, "/a v3", "tiercache; fwd=miss")
	expect(t, e.get("/c"), 200, "/c v2", "tiercache; hit")
	// PURGE of a URL: the request target and its Host.
	h := PurgeHandler(e.tr, allow)
	if rec := purgeRecorder(t, h, "PURGE", e.srv.URL+"/c", "Authorization: Bearer ok"); rec.Code != 200 {
		t.Fatalf("URL purge: %d %s", rec.Code, rec.Body)
	}
	expect(t, e.get("/c"), 200, "/c v4", "tiercache; fwd=")
	if rec := purgeRecorder(t, PurgeHandler(newEnv(t, nil).tr, allow), "PURGE", "http://x/", "Authorization: Bearer ok", "Cache-Tag: t"); rec.Code != 501 {
		t.Fatalf("without WithPurge: %d", rec.Code)
	}
}

// purgeRecorder serves one request to h and returns the recorder.
func purgeRecorder(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for _, kv := range hdr {
		k, v, _ := cut(kv)
		req.Header.Add(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A full shard drops the states it no longer trusts when one is added, and
// keeps the fresh ones.
func TestStateTablePrunes(t *testing.T) {
	var tbl stateTable
	const maxAge = time.Second
	for i := range maxStatesPerShard {
		s := tbl.get(uint64(i*stateShards), 0, maxAge)
		s.apply(1, 0, 0, 0, s.version())
	}
	now := 5 * time.Second
	fresh := tbl.get(uint64(maxStatesPerShard*stateShards), now, maxAge)
	fresh.apply(7, 0, now, now, fresh.version())
	tbl.get(uint64((maxStatesPerShard+1)*stateShards), now, maxAge)
	m := *tbl.shards[0].m.Load()
	if len(m) != 2 || m[uint64(maxStatesPerShard*stateShards)] != fresh {
		t.Fatalf("%d states after pruning", len(m))
	}
	if v := tbl.get(uint64(maxStatesPerShard*stateShards), now, maxAge).load(); v.gen != 7 {
		t.Fatalf("fresh state lost: %+v", v)
	}
}

// A read that started before a newer value was installed (a purge, a bus
// message) does not undo it.
func TestStateSlowReadDoesNotUndo(t *testing.T) {
	var s tagState
	s.apply(1, 0, 0, 0, 0)
	ver := s.version() // a read starts
	s.set(2, 10, time.Second, true)
	if v := s.apply(1, 0, 0, 2*time.Second, ver); v.gen != 2 {
		t.Fatalf("slow read installed gen %d", v.gen)
	}
	if v := s.load(); v.since != time.Second {
		t.Fatalf("since %v", v.since)
	}
}

// A 304 that updates the other stored variants (RFC 9111 §4.3.4) never
// freshens a purged one back into use.
func TestPurgedVariantNotFreshened(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil, WithPurge(true))
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("Vary", "X-V")
			w.Header().Set("ETag", `"same"`)
			w.Header().Set("Surrogate-Key", "v"+r.Header.Get("X-V"))
			if r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "body"+r.Header.Get("X-V")+" #"+itoa(e.hits.Load()))
		})
		e.get("/s", "X-V: 1")
		e.get("/s", "X-V: 2")
		if err := e.tr.PurgeTag(t.Context(), "v2"); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(20 * time.Second)
		expect(t, e.get("/s", "X-V: 1"), 200, "body1 #1", "tiercache; fwd=stale; fwd-status=304")
		expect(t, e.get("/s", "X-V: 2"), 200, "body2 #4", "tiercache; fwd=")
	})
}
