package tiercache

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// hdr builds a header from "Name: value" lines; repeated names add lines.
func hdr(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return h
}

type policyCase struct {
	name     string
	method   string
	reqH     http.Header
	status   int
	respH    http.Header
	opts     []PolicyOption
	storable bool
	ttl      time.Duration
	keep     time.Duration
}

func (c policyCase) policy() *Policy {
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, _ := http.NewRequest(method, "https://example.com/x", nil)
	if c.reqH != nil {
		req.Header = c.reqH
	}
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	opts := append([]PolicyOption{WithNow(t0)}, c.opts...)
	return NewPolicy(req, &http.Response{StatusCode: status, Header: c.respH}, opts...)
}

func TestPolicy(t *testing.T) {
	shared := WithShared(true)
	grace := DefaultRevalidationGrace
	cases := []policyCase{
		{name: "max-age", respH: hdr("Cache-Control: max-age=60"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "no freshness info", respH: hdr(), storable: true},
		{name: "all Cache-Control lines are joined", respH: hdr("Cache-Control: max-age=60", "Cache-Control: no-store")},
		{name: "directives over several lines add up", respH: hdr("Cache-Control: public", "Cache-Control: max-age=30"), storable: true, ttl: 30 * time.Second, keep: 30 * time.Second},
		{name: "Age is subtracted", respH: hdr("Cache-Control: max-age=60", "Age: 20"), storable: true, ttl: 40 * time.Second, keep: 40 * time.Second},
		{name: "invalid Age is ignored", respH: hdr("Cache-Control: max-age=60", "Age: soon"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "Age corrected by request delay", respH: hdr("Cache-Control: max-age=60", "Age: 10"),
			opts: []PolicyOption{WithRequestTime(t0.Add(-5 * time.Second))}, storable: true, ttl: 45 * time.Second, keep: 45 * time.Second},
		{name: "apparent age from Date", respH: hdr("Cache-Control: max-age=60", "Date: "+httpDate(t0.Add(-30*time.Second))), storable: true, ttl: 30 * time.Second, keep: 30 * time.Second},
		{name: "Date in the future counts as age 0", respH: hdr("Cache-Control: max-age=60", "Date: "+httpDate(t0.Add(time.Hour))), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "bad Date header degrades", respH: hdr("Cache-Control: max-age=60", "Date: yesterday-ish"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "s-maxage ignored by a private cache", respH: hdr("Cache-Control: max-age=60, s-maxage=10"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "s-maxage wins in a shared cache", respH: hdr("Cache-Control: max-age=60, s-maxage=10, stale-while-revalidate=30"), opts: []PolicyOption{shared},
			storable: true, ttl: 10 * time.Second, keep: 10 * time.Second}, // s-maxage implies proxy-revalidate: no stale window
		{name: "Expires minus Date", respH: hdr("Date: "+httpDate(t0), "Expires: "+httpDate(t0.Add(100*time.Second))), storable: true, ttl: 100 * time.Second, keep: 100 * time.Second},
		{name: "max-age beats Expires", respH: hdr("Cache-Control: max-age=5", "Expires: "+httpDate(t0.Add(time.Hour))), storable: true, ttl: 5 * time.Second, keep: 5 * time.Second},
		{name: "invalid Expires means already expired", respH: hdr("Expires: 0", "Last-Modified: "+httpDate(t0.Add(-100*time.Hour))),
			storable: true, ttl: 0, keep: grace},
		{name: "heuristic is 10% of Last-Modified age", respH: hdr("Date: "+httpDate(t0), "Last-Modified: "+httpDate(t0.Add(-10*time.Hour))),
			storable: true, ttl: time.Hour, keep: time.Hour + grace},
		{name: "heuristic is capped", respH: hdr("Last-Modified: " + httpDate(t0.Add(-1000*time.Hour))), storable: true, ttl: 24 * time.Hour, keep: 24*time.Hour + grace},
		{name: "heuristic options", respH: hdr("Last-Modified: " + httpDate(t0.Add(-10*time.Hour))), opts: []PolicyOption{WithHeuristic(0.5, 2*time.Hour), WithRevalidationGrace(0)},
			storable: true, ttl: 2 * time.Hour, keep: 2 * time.Hour},
		{name: "no heuristic for 500", status: 500, respH: hdr("Last-Modified: " + httpDate(t0.Add(-10*time.Hour)))},
		{name: "308 is cacheable by default", status: 308, respH: hdr("Last-Modified: " + httpDate(t0.Add(-10*time.Hour))), storable: true, ttl: time.Hour, keep: time.Hour + grace},
		{name: "500 with max-age", status: 500, respH: hdr("Cache-Control: max-age=9"), storable: true, ttl: 9 * time.Second, keep: 9 * time.Second},
		{name: "206 is not stored", status: 206, respH: hdr("Cache-Control: max-age=60")},
		{name: "response no-store", respH: hdr("Cache-Control: no-store, max-age=60")},
		{name: "no-store with a stray argument still restricts", respH: hdr("Cache-Control: max-age=60, no-store=1")},
		{name: "request no-store", reqH: hdr("Cache-Control: no-store"), respH: hdr("Cache-Control: max-age=60")},
		{name: "private in a private cache", respH: hdr("Cache-Control: private, max-age=60"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "private in a shared cache", respH: hdr("Cache-Control: private, max-age=60"), opts: []PolicyOption{shared}},
		{name: "no-cache is storable but never fresh", respH: hdr("Cache-Control: no-cache, max-age=60", "ETag: \"v1\""), storable: true, ttl: 0, keep: grace},
		{name: "must-revalidate drops stale windows", respH: hdr("Cache-Control: max-age=60, must-revalidate, stale-while-revalidate=30, stale-if-error=90"),
			storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "stale windows extend KeepFor only", respH: hdr("Cache-Control: max-age=60, stale-while-revalidate=30, stale-if-error=90"),
			storable: true, ttl: 60 * time.Second, keep: 180 * time.Second},
		{name: "bare stale-while-revalidate degrades alone", respH: hdr("Cache-Control: stale-while-revalidate, max-age=60"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "malformed directive degrades alone", respH: hdr(`Cache-Control: max-age=abc, s-maxage=7, foo="unterminated`), opts: []PolicyOption{shared},
			storable: true, ttl: 7 * time.Second, keep: 7 * time.Second},
		{name: "first of duplicate max-age wins", respH: hdr("Cache-Control: max-age=10, max-age=100"), storable: true, ttl: 10 * time.Second, keep: 10 * time.Second},
		{name: "validators add a revalidation grace", respH: hdr("Cache-Control: max-age=60", `ETag: "abc"`), storable: true, ttl: 60 * time.Second, keep: 60*time.Second + grace},
		{name: "Authorization is fine in a private cache", reqH: hdr("Authorization: Bearer x"), respH: hdr("Cache-Control: max-age=60"), storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "Authorization blocks a shared cache", reqH: hdr("Authorization: Bearer x"), respH: hdr("Cache-Control: max-age=60"), opts: []PolicyOption{shared}},
		{name: "Authorization with public in a shared cache", reqH: hdr("Authorization: Bearer x"), respH: hdr("Cache-Control: public, max-age=60"), opts: []PolicyOption{shared},
			storable: true, ttl: 60 * time.Second, keep: 60 * time.Second},
		{name: "PUT is not stored", method: http.MethodPut, respH: hdr("Cache-Control: max-age=60")},
		{name: "POST without freshness", method: http.MethodPost, respH: hdr()},
		{name: "Vary star is never reused", respH: hdr("Cache-Control: max-age=60", "Vary: *")},
		{name: "huge max-age is capped", respH: hdr("Cache-Control: max-age=99999999999"), storable: true, ttl: DefaultMaxTTL, keep: DefaultMaxTTL},
		{name: "WithMaxTTL caps windows too", respH: hdr("Cache-Control: max-age=600, stale-if-error=600"), opts: []PolicyOption{WithMaxTTL(time.Minute)},
			storable: true, ttl: time.Minute, keep: 2 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.policy()
			if p.Storable() != c.storable {
				t.Fatalf("Storable() = %v (reason %q), want %v", p.Storable(), p.Reason(), c.storable)
			}
			if !c.storable {
				if p.KeepFor(t0) > 0 || p.Reason() == "" {
					t.Fatalf("unstorable policy: KeepFor %v, reason %q", p.KeepFor(t0), p.Reason())
				}
				return
			}
			if got := p.TTL(t0); got != c.ttl {
				t.Errorf("TTL = %v, want %v", got, c.ttl)
			}
			if got := p.KeepFor(t0); got != c.keep {
				t.Errorf("KeepFor = %v, want %v", got, c.keep)
			}
			later := t0.Add(7 * time.Second)
			if got := p.TTL(later); got != c.ttl-7*time.Second {
				t.Errorf("TTL 7s later = %v, want %v", got, c.ttl-7*time.Second)
			}
		})
	}
}

func TestPolicyVary(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Add("Accept-Encoding", "gzip,  br")
	req.Header.Set("Accept-Language", "en")
	resp := &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60", "Vary: accept-encoding", "Vary: Accept-Language, Accept-Encoding")}
	p := NewPolicy(req, resp, WithNow(t0))
	want := []VaryField{{"Accept-Encoding", "gzip,br"}, {"Accept-Language", "en"}}
	if got := p.Vary(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Vary() = %v, want %v", got, want)
	}
	cases := []struct {
		h    http.Header
		want bool
	}{
		{hdr("Accept-Encoding: gzip, br", "Accept-Language: en"), true},
		{hdr("Accept-Encoding: gzip", "Accept-Encoding: br", "Accept-Language: en"), true},
		{hdr("Accept-Encoding: br, gzip", "Accept-Language: en"), false},
		{hdr("Accept-Encoding: gzip, br"), false},
		{hdr(), false},
	}
	for _, c := range cases {
		if got := p.VaryMatches(c.h); got != c.want {
			t.Errorf("VaryMatches(%v) = %v, want %v", c.h, got, c.want)
		}
	}
	// An absent varied header matches an absent one.
	p2 := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Vary: X-Absent")}, WithNow(t0))
	if !p2.VaryMatches(http.Header{}) || p2.VaryMatches(hdr("X-Absent: 1")) {
		t.Error("absent header should match only absent")
	}
}

func TestPolicyEdges(t *testing.T) {
	if p := NewPolicy(nil, nil); p.Storable() || p.KeepFor(t0) != 0 {
		t.Error("nil response must not be storable")
	}
	var nilPol *Policy
	if nilPol.Storable() || nilPol.TTL(t0) != 0 || nilPol.KeepFor(t0) != 0 {
		t.Error("nil policy must answer as not storable")
	}
	p := NewTTLPolicy(time.Minute, WithNow(t0))
	if !p.Storable() || p.TTL(t0) != time.Minute || p.KeepFor(t0.Add(time.Minute)) != 0 {
		t.Errorf("NewTTLPolicy: storable %v ttl %v", p.Storable(), p.TTL(t0))
	}
	if p := NewTTLPolicy(-time.Second, WithNow(t0)); p.TTL(t0) != 0 {
		t.Error("negative ttl must clamp to 0")
	}
	if p := NewTTLPolicy(100*365*24*time.Hour, WithNow(t0)); p.TTL(t0) != DefaultMaxTTL {
		t.Error("a policy is never infinite")
	}
	p = NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60, immutable", "Age: 15")}, WithNow(t0))
	if !p.Immutable() || p.Age(t0) != 15*time.Second || p.Lifetime() != time.Minute || p.Heuristic() {
		t.Errorf("accessors: immutable %v age %v lifetime %v", p.Immutable(), p.Age(t0), p.Lifetime())
	}
}

func TestPolicyWire(t *testing.T) {
	cases := []policyCase{
		{name: "plain", respH: hdr("Cache-Control: max-age=60")},
		{name: "everything", respH: hdr("Cache-Control: max-age=60, stale-while-revalidate=5, stale-if-error=9, immutable", `ETag: "x"`,
			"Vary: Accept-Encoding, X-Y", "Age: 3"), reqH: hdr("Accept-Encoding: gzip")},
		{name: "shared must-revalidate", respH: hdr("Cache-Control: s-maxage=60, no-cache"), opts: []PolicyOption{WithShared(true)}},
		{name: "unstorable", respH: hdr("Cache-Control: no-store")},
		{name: "heuristic", respH: hdr("Last-Modified: " + httpDate(t0.Add(-time.Hour)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.policy()
			bin, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			js, err := p.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var fromBin, fromJSON Policy
			if err := fromBin.UnmarshalBinary(bin); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if err := fromJSON.UnmarshalJSON(js); err != nil {
				t.Fatalf("UnmarshalJSON: %v", err)
			}
			for _, q := range []*Policy{&fromBin, &fromJSON} {
				assertSamePolicy(t, p, q)
			}
			for i := range bin {
				var q Policy
				if err := q.UnmarshalBinary(bin[:i]); err == nil {
					t.Fatalf("truncation at %d accepted", i)
				}
			}
		})
	}
}

func TestPolicyWireRejects(t *testing.T) {
	good, _ := NewTTLPolicy(time.Minute, WithNow(t0)).MarshalBinary()
	bad := append([]byte{}, good...)
	bad[0] = 99
	var p Policy
	if err := p.UnmarshalBinary(bad); !errors.Is(err, ErrVersion) {
		t.Errorf("wrong version: %v", err)
	}
	if err := p.UnmarshalBinary(append(good, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
	// A count claiming more vary fields than bytes left must fail without allocating them.
	huge := append([]byte{}, good[:len(good)-1]...)
	huge = append(huge, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if err := p.UnmarshalBinary(huge); !errors.Is(err, ErrCorrupt) {
		t.Errorf("huge count: %v", err)
	}
	badVary := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Vary: X-A")}, WithNow(t0))
	badVary.vary[0].Value = "\xff"
	if _, err := badVary.MarshalJSON(); !errors.Is(err, ErrInvalid) {
		t.Errorf("non-UTF-8 Vary value: %v", err)
	}
	for _, js := range []string{`{"v":2}`, `{"v":1,"lifetime":-1}`, `{"v":1,"flags":65535}`, `not json`} {
		if err := p.UnmarshalJSON([]byte(js)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted", js)
		}
	}
}

func assertSamePolicy(t *testing.T, want, got *Policy) {
	t.Helper()
	for _, now := range []time.Time{t0.Add(-time.Hour), t0, t0.Add(61 * time.Second), t0.Add(48 * time.Hour)} {
		if want.TTL(now) != got.TTL(now) || want.KeepFor(now) != got.KeepFor(now) || want.Age(now) != got.Age(now) {
			t.Fatalf("at %v: TTL %v/%v KeepFor %v/%v", now, want.TTL(now), got.TTL(now), want.KeepFor(now), got.KeepFor(now))
		}
	}
	if want.Storable() != got.Storable() || want.Reason() != got.Reason() || want.flags != got.flags ||
		want.StaleIfError() != got.StaleIfError() || want.StaleWhileRevalidate() != got.StaleWhileRevalidate() {
		t.Fatalf("answers differ: %+v vs %+v", want, got)
	}
	if len(want.Vary()) != len(got.Vary()) {
		t.Fatalf("vary %v vs %v", want.Vary(), got.Vary())
	}
	for i := range want.Vary() {
		if want.Vary()[i] != got.Vary()[i] {
			t.Fatalf("vary %v vs %v", want.Vary(), got.Vary())
		}
	}
}

func BenchmarkNewPolicy(b *testing.B) {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	resp := &http.Response{StatusCode: 200, Header: hdr("Cache-Control: public, max-age=60, stale-while-revalidate=30",
		"Date: "+httpDate(t0), `ETag: "x"`, "Vary: Accept-Encoding")}
	b.ReportAllocs()
	for b.Loop() {
		NewPolicy(req, resp, WithNow(t0))
	}
}

func TestParseRequestDirectives(t *testing.T) {
	cases := []struct {
		name string
		h    http.Header
		want RequestDirectives
	}{
		{"none", nil, RequestDirectives{}},
		{"max-age", hdr("Cache-Control: max-age=5"), RequestDirectives{MaxAge: 5 * time.Second, HasMaxAge: true}},
		{"max-stale with value", hdr("Cache-Control: max-stale=7"), RequestDirectives{MaxStale: 7 * time.Second, HasMaxStale: true}},
		{"bare max-stale", hdr("Cache-Control: max-stale"), RequestDirectives{MaxStale: DefaultMaxTTL, HasMaxStale: true}},
		{"several lines", hdr("Cache-Control: min-fresh=3", "Cache-Control: no-cache, only-if-cached"),
			RequestDirectives{MinFresh: 3 * time.Second, HasMinFresh: true, NoCache: true, OnlyIfCached: true}},
		{"malformed degrades alone", hdr("Cache-Control: max-age=x, no-store"), RequestDirectives{NoStore: true}},
		{"Pragma without Cache-Control", hdr("Pragma: no-cache"), RequestDirectives{NoCache: true}},
		{"Pragma ignored with Cache-Control", hdr("Pragma: no-cache", "Cache-Control: max-age=1"), RequestDirectives{MaxAge: time.Second, HasMaxAge: true}},
	}
	for _, c := range cases {
		if got := ParseRequestDirectives(c.h); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}
