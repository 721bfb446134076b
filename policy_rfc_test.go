package tiercache

import (
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"
)

// Tests of the Policy rules added for issue 18, named after the section
// whose requirement they check.

func TestRFC9111_5_1_AgeListUsesFirstMember(t *testing.T) {
	for _, tc := range []struct {
		age  []string
		want time.Duration
	}{
		{[]string{"7200,0"}, -3600 * time.Second},
		{[]string{"7200, 0"}, -3600 * time.Second},
		{[]string{"10", "7200"}, 3590 * time.Second},
		{[]string{" , 20"}, 3580 * time.Second},
		{[]string{"soon, 7200"}, time.Hour}, // an invalid first member counts as 0
	} {
		h := http.Header{"Cache-Control": {"max-age=3600"}, "Age": tc.age}
		p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: h}, WithNow(t0))
		if got := p.TTL(t0); got != tc.want {
			t.Errorf("Age %q: TTL %v, want %v", tc.age, got, tc.want)
		}
	}
}

func TestRFC9111_5_2_2_3_MustUnderstandOption(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		cc       []string
		opts     []PolicyOption
		storable bool
		reason   string
	}{
		{"ignored without the option", 200, []string{"must-understand, no-store, max-age=60"}, nil, false, "ResponseNoStore"},
		{"understood status ignores no-store", 200, []string{"must-understand, no-store, max-age=60"}, []PolicyOption{WithMustUnderstand(true)}, true, ""},
		{"no-store on another line", 200, []string{"must-understand, max-age=60", "no-store"}, []PolicyOption{WithMustUnderstand(true)}, true, ""},
		{"unknown status refused", 299, []string{"must-understand, max-age=60"}, []PolicyOption{WithMustUnderstand(true)}, false, "ResponseStatusNotUnderstood"},
		{"206 refused", 206, []string{"must-understand, max-age=60"}, []PolicyOption{WithMustUnderstand(true)}, false, "ResponseStatusNotCacheable"},
		{"private still applies when shared", 200, []string{"must-understand, no-store, private, max-age=60"},
			[]PolicyOption{WithMustUnderstand(true), WithShared(true)}, false, "ResponsePrivate"},
		{"quoted no-store is no directive", 200, []string{`must-understand, x-note="a, no-store", max-age=60`}, []PolicyOption{WithMustUnderstand(true)}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Cache-Control": tc.cc}
			p := NewPolicy(nil, &http.Response{StatusCode: tc.status, Header: h}, append([]PolicyOption{WithNow(t0)}, tc.opts...)...)
			if p.Storable() != tc.storable || p.Reason() != tc.reason {
				t.Fatalf("Storable %v reason %q, want %v %q", p.Storable(), p.Reason(), tc.storable, tc.reason)
			}
			if tc.storable && p.TTL(t0) != time.Minute {
				t.Fatalf("TTL %v", p.TTL(t0))
			}
		})
	}
}

func TestRFC9111_7_3_PolicySetCookie(t *testing.T) {
	tests := []struct {
		name     string
		shared   bool
		cc       string
		storable bool
	}{
		{"private cache stores it", false, "max-age=60", true},
		{"shared cache refuses it", true, "max-age=60", false},
		{"shared cache: public allows it", true, "public, max-age=60", true},
		{"shared cache: s-maxage allows it", true, "s-maxage=60", true},
	}
	for _, tc := range tests {
		h := http.Header{"Cache-Control": {tc.cc}, "Set-Cookie": {"sid=1"}}
		p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: h}, WithNow(t0), WithShared(tc.shared))
		if p.Storable() != tc.storable {
			t.Errorf("%s: Storable %v (reason %q)", tc.name, p.Storable(), p.Reason())
		}
		if !tc.storable && p.Reason() != "ResponseSetCookie" {
			t.Errorf("%s: reason %q", tc.name, p.Reason())
		}
	}
}

func TestNewTTLPolicyFor(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Set("X-Lang", " en ")
	resp := &http.Response{StatusCode: 200, Header: hdr("Cache-Control: no-store, private", "Vary: x-lang, X-Absent")}
	p := NewTTLPolicyFor(time.Minute, req, resp, WithNow(t0), WithShared(true))
	if !p.Storable() || p.TTL(t0) != time.Minute || p.KeepFor(t0) != time.Minute || !p.Shared() {
		t.Fatalf("storable %v ttl %v keep %v", p.Storable(), p.TTL(t0), p.KeepFor(t0))
	}
	if v := p.Vary(); len(v) != 2 || v[0] != (VaryField{"X-Absent", ""}) || v[1] != (VaryField{"X-Lang", "en"}) {
		t.Fatalf("Vary %v", v)
	}
	if !p.VaryMatches(hdr("X-Lang: en")) || p.VaryMatches(hdr("X-Lang: fr")) || p.VaryMatches(hdr("X-Lang: en", "X-Absent: 1")) {
		t.Fatal("VaryMatches")
	}
	star := NewTTLPolicyFor(time.Minute, req, &http.Response{StatusCode: 200, Header: hdr("Vary: *")}, WithNow(t0))
	if star.Storable() || star.Reason() != "ResponseVaryStar" {
		t.Fatalf("Vary: * storable %v %q", star.Storable(), star.Reason())
	}
	if p := NewTTLPolicyFor(time.Minute, nil, nil, WithNow(t0)); p.Storable() {
		t.Fatal("nil response storable")
	}
	if p := NewTTLPolicyFor(time.Hour, nil, &http.Response{StatusCode: 200}, WithNow(t0), WithMaxTTL(time.Minute)); p.TTL(t0) != time.Minute {
		t.Fatalf("ttl not capped: %v", p.TTL(t0))
	}
}

func TestWithStaleGrace(t *testing.T) {
	g := WithStaleGrace(10 * time.Minute)
	tests := []struct {
		name string
		h    http.Header
		keep time.Duration
	}{
		{"without validators", hdr("Cache-Control: max-age=60"), time.Minute + 10*time.Minute},
		{"after its stale windows", hdr("Cache-Control: max-age=60, stale-if-error=60"), 2*time.Minute + 10*time.Minute},
		{"validators keep the revalidation grace", hdr("Cache-Control: max-age=60", `ETag: "x"`), time.Minute + DefaultRevalidationGrace},
		{"never for must-revalidate", hdr("Cache-Control: max-age=60, must-revalidate"), time.Minute},
		{"never for no-cache", hdr("Cache-Control: no-cache"), 0},
	}
	for _, tc := range tests {
		p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: tc.h}, WithNow(t0), g)
		if got := p.KeepFor(t0); got != tc.keep {
			t.Errorf("%s: KeepFor %v, want %v", tc.name, got, tc.keep)
		}
	}
	if p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60")}, WithNow(t0)); p.KeepFor(t0) != time.Minute {
		t.Errorf("default: KeepFor %v", p.KeepFor(t0))
	}
}

func TestDirectiveArguments(t *testing.T) {
	tests := []struct {
		name string
		cc   []string
		ttl  time.Duration
	}{
		{"quoted max-age", []string{`max-age="30"`}, 30 * time.Second},
		{"upper-case name", []string{"MAX-AGE=30"}, 30 * time.Second},
		{"negative max-age dropped", []string{"max-age=-1, s-maxage=5", "max-age=30"}, 30 * time.Second},
		{"huge max-age saturates", []string{"max-age=99999999999999999999"}, DefaultMaxTTL},
	}
	for _, tc := range tests {
		p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: http.Header{"Cache-Control": tc.cc}}, WithNow(t0))
		if got := p.TTL(t0); got != tc.ttl {
			t.Errorf("%s: TTL %v, want %v", tc.name, got, tc.ttl)
		}
	}
	d := ParseRequestDirectives(hdr("Cache-Control: max-stale=soon, stale-if-error=30"))
	if d.HasMaxStale || !d.HasStaleIfError || d.StaleIfError != 30*time.Second {
		t.Errorf("a malformed max-stale must not accept any staleness: %+v", d)
	}
}

// Entries written before version 2 of the wire form still read, with the
// same answers: these bytes come from the encoder as it was before.
func TestPolicyWireReadsVersion1(t *testing.T) {
	const v1 = "0115008088a9e4fe91c1ec3180b09dc2df0180e497d01280b4c4c32180c0e285e368020f4163636570742d456e636f64696e6704677a697003582d5900"
	const v1JSON = `{"v":1,"flags":21,"born":1795953597000000000,"lifetime":60000000000,"swr":5000000000,"sie":9000000000,"grace":3600000000000,"vary":[{"Name":"Accept-Encoding","Value":"gzip"},{"Name":"X-Y","Value":""}]}`
	req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	want := NewPolicy(req, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60, stale-while-revalidate=5, stale-if-error=9, must-revalidate",
		`ETag: "x"`, "Vary: Accept-Encoding, X-Y", "Age: 3")}, WithNow(t0), WithShared(true))
	b, _ := hex.DecodeString(v1)
	var fromBin, fromJSON Policy
	if err := fromBin.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if err := fromJSON.UnmarshalJSON([]byte(v1JSON)); err != nil {
		t.Fatal(err)
	}
	assertSamePolicy(t, want, &fromBin)
	assertSamePolicy(t, want, &fromJSON)
	// A policy without extensions is still written as version 1.
	if again, _ := want.MarshalBinary(); hex.EncodeToString(again) != v1 {
		t.Fatalf("re-encoded as %x", again)
	}
}

func TestPolicyWireExtensions(t *testing.T) {
	p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60")}, WithNow(t0))
	p.ext = []byte{7, 3, 'a', 'b', 'c', 200, 1, 0} // tag 7 "abc", tag 200 empty
	bin, _ := p.MarshalBinary()
	js, _ := p.MarshalJSON()
	if bin[0] != PolicyWireVersion {
		t.Fatalf("version %d", bin[0])
	}
	for _, decode := range []func(*Policy) error{
		func(q *Policy) error { return q.UnmarshalBinary(bin) },
		func(q *Policy) error { return q.UnmarshalJSON(js) },
	} {
		var q Policy
		if err := decode(&q); err != nil {
			t.Fatal(err)
		}
		assertSamePolicy(t, p, &q)
		if again, _ := q.MarshalBinary(); string(again) != string(bin) {
			t.Fatalf("extension records not kept: %x vs %x", again, bin)
		}
	}
	bad := [][]byte{
		append(append([]byte{}, bin[:len(bin)-3]...), 1, 9), // record longer than the form
		bin[:len(bin)-len(p.ext)],                           // version 2 without records
	}
	for _, b := range bad {
		var q Policy
		if err := q.UnmarshalBinary(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%x: %v", b, err)
		}
	}
	var q Policy
	if err := q.UnmarshalJSON([]byte(`{"v":2,"lifetime":1}`)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("JSON version 2 without records: %v", err)
	}
	if err := q.UnmarshalJSON([]byte(`{"v":3}`)); !errors.Is(err, ErrVersion) {
		t.Errorf("JSON version 3: %v", err)
	}
}

func TestParseRequestDirectivesDoesNotAllocate(t *testing.T) {
	h := hdr("Cache-Control: max-age=5, no-cache, max-stale, stale-if-error=9")
	if n := testing.AllocsPerRun(100, func() { ParseRequestDirectives(h) }); n != 0 {
		t.Fatalf("ParseRequestDirectives allocates %v times", n)
	}
}
