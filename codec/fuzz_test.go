package codec

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/tiercache/tiercache"
)

// addEncodings adds the encodings of the test responses and policies by c
// as seeds, plus a few malformed inputs.
func addEncodings(f *testing.F, c Codec) {
	f.Helper()
	pols := testPolicies(f)
	for _, resp := range smallResponses() {
		for _, pol := range pols {
			if data, err := c.Encode(resp, pol); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{binaryMagic0, binaryMagic1, binaryMagic2, BinaryVersion, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte(`{"v":1,"policy":{"v":1}}`))
}

// smallResponses returns the test responses with bodies of at most 16
// bytes: small seeds keep mutation and minimization fast.
func smallResponses() map[string]*tiercache.Response {
	rs := testResponses()
	for _, r := range rs {
		r.Body = r.Body[:min(len(r.Body), 16)]
	}
	return rs
}

// fuzzDecode checks one decoder on arbitrary input: an error wraps a
// decoding sentinel; a success re-encodes and decodes to the same values.
func fuzzDecode(t *testing.T, c Codec, data []byte) {
	resp, pol, err := c.Decode(bytes.Clone(data))
	if err != nil {
		if !errors.Is(err, tiercache.ErrCorrupt) && !errors.Is(err, tiercache.ErrVersion) {
			t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
		}
		if resp != nil || pol != nil {
			t.Fatalf("error %v with a non-nil result", err)
		}
		return
	}
	again, err := c.Encode(resp, pol)
	if err != nil {
		if _, ok := c.(JSON); ok && errors.Is(err, tiercache.ErrInvalid) {
			return // a decoded "\ufffd" is fine; JSON input can hold no invalid UTF-8
		}
		t.Fatalf("decoded entry does not re-encode: %v", err)
	}
	resp2, pol2, err := c.Decode(again)
	if err != nil {
		t.Fatalf("re-encoded entry does not decode: %v", err)
	}
	checkResponse(t, resp2, resp)
	checkSame(t, pol2, pol)
}

// FuzzBinaryDecode decodes the input as a frame and, so that the fuzzer
// reaches the payload parser past the checksum, as a payload wrapped in a
// valid frame.
func FuzzBinaryDecode(f *testing.F) {
	addEncodings(f, Binary{})
	for _, resp := range smallResponses() {
		data, err := Binary{}.Encode(resp, testPolicies(f)["max-age etag vary"])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[binaryHeadLen : len(data)-binaryCRCLen])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, Binary{}, data)
		fuzzDecode(t, Binary{}, frame(data))
	})
}

func FuzzGobDecode(f *testing.F) {
	addEncodings(f, Gob{})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, Gob{}, data) })
}

func FuzzJSONDecode(f *testing.F) {
	addEncodings(f, JSON{})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, JSON{}, data) })
}

// FuzzBinaryRoundTrip builds a response and an RFC 9111 policy from fuzzed
// fields and requires every codec that accepts it to return it unchanged.
func FuzzBinaryRoundTrip(f *testing.F) {
	f.Add(uint16(200), "https://example.com/", "Content-Type", "text/plain", "max-age=60", `"e"`, "Accept", "gzip", []byte("body"))
	f.Add(uint16(308), "", "", "", "s-maxage=10, stale-while-revalidate=5", "", "*", "", []byte{})
	f.Add(uint16(999), "/\xff", "X\x00", "\xfe", "no-store", "W/\"x\"", "A, B", "a", []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, status uint16, url, name, value, cc, etag, vary, reqValue string, body []byte) {
		h := http.Header{"Cache-Control": {cc}, "Date": {base.Format(http.TimeFormat)}}
		if etag != "" {
			h["Etag"] = []string{etag}
		}
		if vary != "" {
			h["Vary"] = []string{vary}
		}
		req := &http.Request{Header: http.Header{"Accept": {reqValue}, "A": {reqValue}}}
		pol := tiercache.NewPolicy(req, &http.Response{StatusCode: int(status % 1000), Header: h},
			tiercache.WithNow(base), tiercache.WithShared(len(body)%2 == 1))
		resp := &tiercache.Response{Status: int(status % 1000), URL: url, Body: body,
			Header: http.Header{name: {value, cc}, "Etag": {etag}}}
		for _, c := range codecs {
			t.Logf("codec %s", c.name) // shown on failure only
			data, err := c.c.Encode(resp, pol)
			if err != nil {
				if c.name == "JSON" && errors.Is(err, tiercache.ErrInvalid) {
					continue // strings that are not UTF-8
				}
				t.Fatalf("%s.Encode: %v", c.name, err)
			}
			got, gotPol, err := c.c.Decode(data)
			if err != nil {
				t.Fatalf("%s.Decode: %v", c.name, err)
			}
			checkResponse(t, got, resp)
			checkSame(t, gotPol, pol)
		}
		// Every strict prefix of a Binary frame is rejected.
		data, _ := Binary{}.Encode(resp, pol)
		if _, _, err := (Binary{}).Decode(data[:len(data)-1-int(status)%(len(data)-1)]); err == nil {
			t.Fatalf("truncated frame decoded")
		}
	})
}
