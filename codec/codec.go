// Package codec turns a tiercache.Response and its tiercache.Policy into bytes
// and back, and adapts a byte-level tiercache.Store into a tiercache.Manager.
//
// Three codecs are provided, each usable as its zero value and safe for
// concurrent use:
//
//   - [Binary], the default: a versioned, length-prefixed, CRC-32C checksummed
//     format with few allocations on decode;
//   - [Gob], encoding/gob in a versioned envelope;
//   - [JSON], encoding/json in a versioned envelope (readable, largest).
//
// Every decoder rejects truncated, corrupt or trailing input with an error
// wrapping tiercache.ErrCorrupt, an unknown format version with
// tiercache.ErrVersion and input above its size limit with
// tiercache.ErrTooLarge; none panics on any input.
//
// All codecs decode an empty or nil Header as a non-nil, empty http.Header
// and an empty or nil Body as a nil Body, so the three agree on a round trip.
//
// [NewManager] builds a Manager from a Store and a Codec; the memcached and
// disk backends use it.
package codec

import (
	"fmt"
	"net/http"

	"github.com/tiercache/tiercache"
)

// Codec encodes a response and its policy into one self-contained byte
// slice and decodes it back.
//
// Implementations are safe for concurrent use. Encode returns a slice the
// caller owns. Decode may retain data (Binary aliases the body into it), so
// the caller must not modify data after passing it to Decode; the returned
// values are owned by the caller but should be treated as read-only when
// they come from a cache.
type Codec interface {
	// Encode returns the encoding of resp and pol. Both must be non-nil.
	Encode(resp *tiercache.Response, pol *tiercache.Policy) ([]byte, error)
	// Decode returns the response and policy encoded in data.
	Decode(data []byte) (*tiercache.Response, *tiercache.Policy, error)
}

// DefaultMaxSize is the size limit of an encoded entry that every codec
// applies when its MaxSize field is zero: 256 MiB.
const DefaultMaxSize = 256 << 20

// maxStatus is the largest status code a codec accepts: three digits.
const maxStatus = 999

// limit returns the effective size limit for a MaxSize field value.
func limit(maxSize int) int {
	if maxSize <= 0 {
		return DefaultMaxSize
	}
	return maxSize
}

// checkEncode validates the arguments of an Encode call.
func checkEncode(name string, resp *tiercache.Response, pol *tiercache.Policy) error {
	switch {
	case resp == nil:
		return fmt.Errorf("%w: codec: %s: nil response", tiercache.ErrInvalid, name)
	case pol == nil:
		return fmt.Errorf("%w: codec: %s: nil policy", tiercache.ErrInvalid, name)
	case resp.Status < 0 || resp.Status > maxStatus:
		return fmt.Errorf("%w: codec: %s: status %d out of range [0, %d]",
			tiercache.ErrInvalid, name, resp.Status, maxStatus)
	}
	return nil
}

// tooLarge returns the error for an encoding of n bytes over max.
func tooLarge(name, op string, n, lim int) error {
	return fmt.Errorf("%w: codec: %s %s: %d bytes, limit %d", tiercache.ErrTooLarge, name, op, n, lim)
}

// normalise applies the decoding conventions shared by all codecs: a
// non-nil Header and a nil empty Body.
func normalise(resp *tiercache.Response) {
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if len(resp.Body) == 0 {
		resp.Body = nil
	}
}
