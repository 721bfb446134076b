package codec

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"net/http"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// GobVersion is the envelope version Gob writes and reads.
const GobVersion = 1

// gobEntry is the Gob envelope, version 1. The header travels as a slice,
// not a map: encoding/gob pre-sizes a decoded map from the count in the
// stream, so a forged count of a few bytes could demand gigabytes, while
// slices grow as their elements actually arrive.
type gobEntry struct {
	Version int
	Status  int
	URL     string
	Header  []gobField
	Body    []byte
	Policy  []byte // Policy.MarshalBinary
}

// gobField is one header name and its values.
type gobField struct {
	Name   string
	Values []string
}

// gobTypeOverhead approximates the type descriptions a fresh gob stream
// carries before its value.
const gobTypeOverhead = 256

// Gob is a Codec built on encoding/gob: a self-contained gob stream (type
// descriptions included) of a versioned envelope. The zero value is ready
// to use and Gob is safe for concurrent use.
//
// Gob is slower and larger than Binary and has no checksum; it suits stores
// whose entries other Go programs read with encoding/gob. Encode allocates
// the gob encoder state and the output; Decode allocates the decoder state
// and a fresh copy of every field. Returned data is owned by the caller;
// Decode does not retain data.
type Gob struct {
	// MaxSize bounds the size of an encoded entry in bytes, on Encode and
	// Decode (error wrapping tiercache.ErrTooLarge). 0 means DefaultMaxSize.
	MaxSize int
}

var _ Codec = Gob{}

// Encode returns the gob encoding of resp and pol in a new slice owned by
// the caller. Errors wrap tiercache.ErrInvalid (nil argument, status outside
// 0..999) or tiercache.ErrTooLarge (over MaxSize).
func (g Gob) Encode(resp *tiercache.Response, pol *tiercache.Policy) ([]byte, error) {
	if err := checkEncode("gob", resp, pol); err != nil {
		return nil, err
	}
	lim := limit(g.MaxSize)
	if n := len(resp.Body) + len(resp.URL); n > lim {
		return nil, tooLarge("gob", "encode", n, lim)
	}
	pb, err := pol.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("codec: gob encode policy: %w", err)
	}
	e := gobEntry{Version: GobVersion, Status: resp.Status, URL: resp.URL, Body: resp.Body, Policy: pb}
	if len(resp.Header) > 0 {
		e.Header = make([]gobField, 0, len(resp.Header))
		for name, vs := range resp.Header {
			e.Header = append(e.Header, gobField{Name: name, Values: vs})
		}
	}
	var buf bytes.Buffer
	buf.Grow(resp.Size() + len(pb) + gobTypeOverhead)
	if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
		return nil, fmt.Errorf("codec: gob encode: %w", err)
	}
	if buf.Len() > lim {
		return nil, tooLarge("gob", "encode", buf.Len(), lim)
	}
	return buf.Bytes(), nil
}

// Decode decodes one gob entry. Errors wrap tiercache.ErrTooLarge (over
// MaxSize), tiercache.ErrVersion (unknown envelope or policy version) or
// tiercache.ErrCorrupt (malformed, truncated or trailing input). It never
// panics and does not retain data.
func (g Gob) Decode(data []byte) (*tiercache.Response, *tiercache.Policy, error) {
	if lim := limit(g.MaxSize); len(data) > lim {
		return nil, nil, tooLarge("gob", "decode", len(data), lim)
	}
	r := bytes.NewReader(data)
	var e gobEntry
	if err := gob.NewDecoder(r).Decode(&e); err != nil {
		return nil, nil, corrupt("gob", "%v", err)
	}
	if r.Len() != 0 {
		return nil, nil, corrupt("gob", "%d trailing bytes", r.Len())
	}
	if e.Version != GobVersion {
		return nil, nil, fmt.Errorf("%w: codec: gob version %d, want %d", tiercache.ErrVersion, e.Version, GobVersion)
	}
	return e.decode()
}

// decode checks the fields of a version-1 envelope and builds the result.
func (e *gobEntry) decode() (*tiercache.Response, *tiercache.Policy, error) {
	if e.Status < 0 || e.Status > maxStatus {
		return nil, nil, corrupt("gob", "status %d", e.Status)
	}
	resp := &tiercache.Response{Status: e.Status, URL: e.URL, Body: e.Body}
	if len(e.Header) > 0 {
		resp.Header = make(http.Header, len(e.Header))
		for _, f := range e.Header {
			if _, dup := resp.Header[f.Name]; dup {
				return nil, nil, corrupt("gob", "duplicate header %s", keyfmt.Quote(f.Name))
			}
			resp.Header[f.Name] = f.Values
		}
	}
	pol := new(tiercache.Policy)
	if err := pol.UnmarshalBinary(e.Policy); err != nil {
		return nil, nil, fmt.Errorf("codec: gob: %w", err)
	}
	normalise(resp)
	return resp, pol, nil
}
