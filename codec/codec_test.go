package codec

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// base is the fixed response time of the test policies.
var base = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// codecs lists every codec under test by name.
var codecs = []struct {
	name string
	c    Codec
}{
	{"Binary", Binary{}},
	{"Gob", Gob{}},
	{"JSON", JSON{}},
}

// httpResp builds an *http.Response with header lines given as "Name: value".
func httpResp(status int, lines ...string) *http.Response {
	h := http.Header{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ": ")
		h.Add(name, value)
	}
	return &http.Response{StatusCode: status, Header: h}
}

// testPolicies returns policies covering every field of the wire form.
func testPolicies(t testing.TB) map[string]*tiercache.Policy {
	t.Helper()
	date := "Date: " + base.Format(http.TimeFormat)
	req := &http.Request{Method: http.MethodGet, Header: http.Header{
		"Accept-Encoding": {"gzip,  br"}, "Accept-Language": {"en"},
	}}
	now := tiercache.WithNow(base)
	return map[string]*tiercache.Policy{
		"max-age etag vary": tiercache.NewPolicy(req, httpResp(200, date, "Cache-Control: max-age=600",
			`ETag: "v1"`, "Vary: Accept-Encoding, Accept-Language"), now),
		"shared s-maxage swr sie": tiercache.NewPolicy(req, httpResp(200, date,
			"Cache-Control: max-age=60, s-maxage=300, stale-while-revalidate=30, stale-if-error=120"),
			now, tiercache.WithShared(true)),
		"swr sie private": tiercache.NewPolicy(nil, httpResp(200, date,
			"Cache-Control: max-age=60, stale-while-revalidate=30", "Cache-Control: stale-if-error=90"), now),
		"age must-revalidate immutable": tiercache.NewPolicy(nil, httpResp(200, date, "Age: 100",
			"Cache-Control: max-age=3600, must-revalidate, immutable"), now),
		"heuristic": tiercache.NewPolicy(nil, httpResp(200, date,
			"Last-Modified: "+base.Add(-240*time.Hour).Format(http.TimeFormat)), now),
		"no-cache": tiercache.NewPolicy(nil, httpResp(200, date, "Cache-Control: no-cache", `ETag: "n"`), now),
		"no-store": tiercache.NewPolicy(nil, httpResp(200, date, "Cache-Control: no-store"), now),
		"ttl":      tiercache.NewTTLPolicy(time.Minute, now),
		"expired":  tiercache.NewTTLPolicy(time.Minute, tiercache.WithNow(base.Add(-time.Hour))),
	}
}

// testResponses returns responses covering empty, odd and multi-valued fields.
func testResponses() map[string]*tiercache.Response {
	return map[string]*tiercache.Response{
		"full": {Status: 200, URL: "https://example.com/a?b=c", Body: bytes.Repeat([]byte("body "), 200),
			Header: http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"a=1", "b=2", ""}, "Etag": {`"v1"`}}},
		"empty":    {Status: 204},
		"odd":      {Status: 0, Header: http.Header{"": {"\x00\u00ff"}, "X-None": {}, "X-Ünï": {"日本"}}, Body: []byte{0}},
		"redirect": {Status: 308, URL: "/x", Header: http.Header{"Location": {"https://example.org/"}}},
		"status":   {Status: 999, Header: http.Header{}, Body: []byte{}},
	}
}

// answers renders everything a Policy answers at now.
func answers(p *tiercache.Policy, now time.Time) string {
	return fmt.Sprintf("storable=%v reason=%q ttl=%v keep=%v age=%v life=%v shared=%v nocache=%v "+
		"mustreval=%v immutable=%v validators=%v heuristic=%v swr=%v sie=%v vary=%v",
		p.Storable(), p.Reason(), p.TTL(now), p.KeepFor(now), p.Age(now), p.Lifetime(), p.Shared(),
		p.NoCache(), p.MustRevalidate(), p.Immutable(), p.HasValidators(), p.Heuristic(),
		p.StaleWhileRevalidate(), p.StaleIfError(), p.Vary())
}

// checkSame fails unless got answers like want at several fixed times.
func checkSame(t testing.TB, got, want *tiercache.Policy) {
	t.Helper()
	for _, d := range []time.Duration{-time.Minute, 0, 30 * time.Second, 10 * time.Minute, 2 * time.Hour, 400 * 24 * time.Hour} {
		now := base.Add(d)
		if g, w := answers(got, now), answers(want, now); g != w {
			t.Fatalf("at base%+v:\n got %s\nwant %s", d, g, w)
		}
	}
	for _, h := range []http.Header{{"Accept-Encoding": {"gzip, br"}, "Accept-Language": {"en"}}, {}} {
		if got.VaryMatches(h) != want.VaryMatches(h) {
			t.Fatalf("VaryMatches(%v) differs", h)
		}
	}
}

// checkResponse fails unless got carries the same fields as want and follows
// the decoding conventions (non-nil Header, nil empty Body).
func checkResponse(t testing.TB, got, want *tiercache.Response) {
	t.Helper()
	if !tiercachetest.Equal(got, want) {
		t.Fatalf("response = %+v, want %+v", got, want)
	}
	if got.Header == nil {
		t.Fatalf("decoded Header is nil")
	}
	if len(got.Body) == 0 && got.Body != nil {
		t.Fatalf("decoded empty Body is non-nil")
	}
}

func TestRoundTrip(t *testing.T) {
	pols := testPolicies(t)
	for _, c := range codecs {
		for rname, resp := range testResponses() {
			for pname, pol := range pols {
				t.Run(c.name+"/"+rname+"/"+pname, func(t *testing.T) {
					data, err := c.c.Encode(resp, pol)
					if err != nil {
						t.Fatalf("Encode: %v", err)
					}
					got, gotPol, err := c.c.Decode(data)
					if err != nil {
						t.Fatalf("Decode: %v", err)
					}
					checkResponse(t, got, resp)
					checkSame(t, gotPol, pol)
				})
			}
		}
	}
}

func TestNotUTF8(t *testing.T) {
	resp := &tiercache.Response{Status: 200, URL: "/\xff", Header: http.Header{"X-Latin1": {"caf\xe9"}}}
	pol := tiercache.NewTTLPolicy(time.Minute)
	for _, c := range codecs {
		data, err := c.c.Encode(resp, pol)
		if c.name == "JSON" {
			if !errors.Is(err, tiercache.ErrInvalid) {
				t.Errorf("JSON.Encode of non-UTF-8 strings: error = %v, want ErrInvalid", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s.Encode: %v", c.name, err)
		}
		got, _, err := c.c.Decode(data)
		if err != nil {
			t.Fatalf("%s.Decode: %v", c.name, err)
		}
		checkResponse(t, got, resp)
	}
}

func TestEncodeInvalid(t *testing.T) {
	pol := tiercache.NewTTLPolicy(time.Minute)
	cases := []struct {
		name string
		resp *tiercache.Response
		pol  *tiercache.Policy
	}{
		{"nil response", nil, pol},
		{"nil policy", &tiercache.Response{Status: 200}, nil},
		{"negative status", &tiercache.Response{Status: -1}, pol},
		{"status 1000", &tiercache.Response{Status: 1000}, pol},
	}
	for _, c := range codecs {
		for _, tc := range cases {
			if _, err := c.c.Encode(tc.resp, tc.pol); !errors.Is(err, tiercache.ErrInvalid) {
				t.Errorf("%s.Encode(%s) error = %v, want ErrInvalid", c.name, tc.name, err)
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	resp := &tiercache.Response{Status: 200, Body: make([]byte, 4096)}
	pol := tiercache.NewTTLPolicy(time.Minute)
	for _, c := range []struct {
		name         string
		small, large Codec
	}{
		{"Binary", Binary{MaxSize: 1000}, Binary{}},
		{"Gob", Gob{MaxSize: 1000}, Gob{}},
		{"JSON", JSON{MaxSize: 1000}, JSON{}},
		{"BinaryTight", Binary{MaxSize: 4096 + 20}, Binary{MaxSize: 4096 + 200}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.small.Encode(resp, pol); !errors.Is(err, tiercache.ErrTooLarge) {
				t.Fatalf("Encode over MaxSize: error = %v, want ErrTooLarge", err)
			}
			data, err := c.large.Encode(resp, pol)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if _, _, err := c.small.Decode(data); !errors.Is(err, tiercache.ErrTooLarge) {
				t.Fatalf("Decode over MaxSize: error = %v, want ErrTooLarge", err)
			}
		})
	}
}

// checkDecodeErr fails unless err wraps one of the decoding sentinels.
func checkDecodeErr(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: decoded without error", what)
	}
	if !errors.Is(err, tiercache.ErrCorrupt) && !errors.Is(err, tiercache.ErrVersion) {
		t.Fatalf("%s: error %v wraps neither ErrCorrupt nor ErrVersion", what, err)
	}
}

func TestTruncatedAndTrailing(t *testing.T) {
	resp := testResponses()["full"]
	pol := testPolicies(t)["max-age etag vary"]
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			data, err := c.c.Encode(resp, pol)
			if err != nil {
				t.Fatal(err)
			}
			for n := range len(data) {
				_, _, err := c.c.Decode(bytes.Clone(data[:n]))
				checkDecodeErr(t, err, fmt.Sprintf("truncated to %d of %d bytes", n, len(data)))
			}
			// JSON allows trailing white space; anything else is corrupt.
			_, _, err = c.c.Decode(append(bytes.Clone(data), 'x'))
			if !errors.Is(err, tiercache.ErrCorrupt) {
				t.Fatalf("trailing byte: error = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestWrongVersion(t *testing.T) {
	resp := testResponses()["full"]
	pol := tiercache.NewTTLPolicy(time.Minute)
	binData, _ := Binary{}.Encode(resp, pol)
	binData[3] = BinaryVersion + 1
	gobData, _ := gobWithVersion(t, GobVersion+1)
	jsonData, _ := JSON{}.Encode(resp, pol)
	jsonData = bytes.Replace(jsonData, []byte(`"v":1,"status"`), []byte(`"v":2,"status"`), 1)
	jsonNewTypes := []byte(`{"v":2,"status":"OK","policy":[]}`)
	cases := []struct {
		name string
		c    Codec
		data []byte
	}{
		{"Binary", Binary{}, binData},
		{"Gob", Gob{}, gobData},
		{"JSON", JSON{}, jsonData},
		{"JSONMissing", JSON{}, []byte(`{"status":200,"policy":{}}`)},
		{"JSONNewTypes", JSON{}, jsonNewTypes},
	}
	for _, tc := range cases {
		if _, _, err := tc.c.Decode(tc.data); !errors.Is(err, tiercache.ErrVersion) {
			t.Errorf("%s: error = %v, want ErrVersion", tc.name, err)
		}
	}
}

// gobWithVersion returns a gob envelope with the given version.
func gobWithVersion(t testing.TB, v int) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	pb, _ := tiercache.NewTTLPolicy(time.Minute).MarshalBinary()
	err := gob.NewEncoder(&buf).Encode(&gobEntry{Version: v, Status: 200, Policy: pb})
	return buf.Bytes(), err
}
