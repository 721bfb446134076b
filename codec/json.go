package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// JSONVersion is the envelope version JSON writes and reads.
const JSONVersion = 1

// jsonEntry is the JSON envelope, version 1, for example
//
//	{"v":1,"status":200,"url":"https://example.com/","header":{"Etag":["\"x\""]},
//	 "body":"aGVsbG8=","policy":{"v":1,...}}
//
// The body is base64 (encoding/json's form of []byte); the policy is the
// Policy.MarshalJSON form, versioned on its own.
type jsonEntry struct {
	Version int             `json:"v"`
	Status  int             `json:"status"`
	URL     string          `json:"url,omitempty"`
	Header  http.Header     `json:"header,omitempty"`
	Body    []byte          `json:"body,omitempty"`
	Policy  json.RawMessage `json:"policy"`
}

// JSON is a Codec built on encoding/json: one JSON object per entry, readable
// with any JSON tool. The zero value is ready to use and JSON is safe for
// concurrent use.
//
// JSON is the slowest and largest codec (the body is base64) and has no
// checksum. Encode and Decode allocate in proportion to the entry, through
// encoding/json; returned data is owned by the caller and Decode does not
// retain data. Unknown object members are ignored; when the same header name
// appears twice in one object the last one wins.
//
// JSON strings carry only UTF-8: Encode rejects a URL, header name or value
// or policy Vary field holding other bytes (error wrapping tiercache.ErrInvalid) instead of
// silently replacing them; Binary and Gob carry any bytes.
type JSON struct {
	// MaxSize bounds the size of an encoded entry in bytes, on Encode and
	// Decode (error wrapping tiercache.ErrTooLarge). 0 means DefaultMaxSize.
	MaxSize int
}

var _ Codec = JSON{}

// Encode returns the JSON encoding of resp and pol in a new slice owned by
// the caller. Errors wrap tiercache.ErrInvalid (nil argument, status outside
// 0..999, strings that are not UTF-8) or tiercache.ErrTooLarge (over MaxSize).
func (j JSON) Encode(resp *tiercache.Response, pol *tiercache.Policy) ([]byte, error) {
	if err := checkEncode("json", resp, pol); err != nil {
		return nil, err
	}
	if err := checkUTF8(resp, pol); err != nil {
		return nil, err
	}
	lim := limit(j.MaxSize)
	if n := len(resp.Body)/3*4 + len(resp.URL); n > lim {
		return nil, tooLarge("json", "encode", n, lim)
	}
	pb, err := pol.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("codec: json encode policy: %w", err)
	}
	out, err := json.Marshal(&jsonEntry{Version: JSONVersion, Status: resp.Status, URL: resp.URL,
		Header: resp.Header, Body: resp.Body, Policy: pb})
	if err != nil {
		return nil, fmt.Errorf("codec: json encode: %w", err)
	}
	if len(out) > lim {
		return nil, tooLarge("json", "encode", len(out), lim)
	}
	return out, nil
}

// checkUTF8 returns an error wrapping tiercache.ErrInvalid unless the URL,
// every header name and value of resp and every Vary field of pol are valid
// UTF-8 (encoding/json would replace other bytes with U+FFFD).
func checkUTF8(resp *tiercache.Response, pol *tiercache.Policy) error {
	bad := func(what, s string) error {
		return fmt.Errorf("%w: codec: json: %s %s is not valid UTF-8", tiercache.ErrInvalid, what, keyfmt.Quote(s))
	}
	if !utf8.ValidString(resp.URL) {
		return bad("URL", resp.URL)
	}
	for name, vs := range resp.Header {
		if !utf8.ValidString(name) {
			return bad("header name", name)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return bad("value of header "+name, v)
			}
		}
	}
	for _, f := range pol.Vary() {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			return bad("policy Vary field", f.Name+": "+f.Value)
		}
	}
	return nil
}

// Decode decodes one JSON entry. Errors wrap tiercache.ErrTooLarge (over
// MaxSize), tiercache.ErrVersion (unknown or missing envelope version,
// unknown policy version) or tiercache.ErrCorrupt (malformed JSON, wrong
// types, trailing data, missing policy). It never panics and does not
// retain data.
func (j JSON) Decode(data []byte) (*tiercache.Response, *tiercache.Policy, error) {
	if lim := limit(j.MaxSize); len(data) > lim {
		return nil, nil, tooLarge("json", "decode", len(data), lim)
	}
	var e jsonEntry
	if err := json.Unmarshal(data, &e); err != nil {
		// A future version may change field types: report the version
		// when it can be read at all.
		var v struct {
			Version int `json:"v"`
		}
		if json.Unmarshal(data, &v) == nil && v.Version != JSONVersion {
			return nil, nil, jsonVersionError(v.Version)
		}
		return nil, nil, corrupt("json", "%v", err)
	}
	if e.Version != JSONVersion {
		return nil, nil, jsonVersionError(e.Version)
	}
	return e.decode()
}

func jsonVersionError(v int) error {
	return fmt.Errorf("%w: codec: json version %d, want %d", tiercache.ErrVersion, v, JSONVersion)
}

// decode checks the fields of a version-1 envelope and builds the result.
func (e *jsonEntry) decode() (*tiercache.Response, *tiercache.Policy, error) {
	if e.Status < 0 || e.Status > maxStatus {
		return nil, nil, corrupt("json", "status %d", e.Status)
	}
	if len(e.Policy) == 0 || bytes.Equal(e.Policy, []byte("null")) {
		return nil, nil, corrupt("json", "missing policy")
	}
	pol := new(tiercache.Policy)
	if err := pol.UnmarshalJSON(e.Policy); err != nil {
		return nil, nil, fmt.Errorf("codec: json: %w", err)
	}
	resp := &tiercache.Response{Status: e.Status, URL: e.URL, Header: e.Header, Body: e.Body}
	normalise(resp)
	return resp, pol, nil
}
