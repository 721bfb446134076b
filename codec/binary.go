package codec

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"net/http"
	"slices"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/wire"
)

// Binary frame layout, version 1. Integers marked LE are little-endian;
// uvarints are encoding/binary unsigned varints; a "string" is a uvarint
// length followed by that many bytes.
//
//	offset  size  field
//	0       3     magic    0xD7 'T' 'C'
//	3       1     version  1
//	4       4     length   n, byte length of the payload (uint32 LE)
//	8       n     payload:
//	                status   uvarint, 0..999
//	                meta     uvarint length m, then m bytes:
//	                           url      string
//	                           nhdr     uvarint, number of header names
//	                           nval     uvarint, total number of header values
//	                           nhdr x   name string, count uvarint, count x value string
//	                body     uvarint length, bytes
//	                policy   the rest of the payload: tiercache.Policy wire form
//	                         (Policy.AppendBinary, versioned on its own)
//	8+n     4     crc      CRC-32C (Castagnoli) of bytes [0, 8+n) (uint32 LE)
//
// All strings of the response live in the meta block so that Decode converts
// it to a string once and slices names, values and the URL out of it.
const (
	// BinaryVersion is the frame version Binary writes and reads.
	BinaryVersion = 1

	binaryMagic0 = 0xD7 // magic; not ASCII, so no JSON or gob entry starts so
	binaryMagic1 = 'T'
	binaryMagic2 = 'C'

	binaryHeadLen  = 8                               // magic, version, length
	binaryCRCLen   = 4                               // crc trailer
	binaryOverhead = binaryHeadLen + binaryCRCLen    // frame bytes around the payload
	binaryMaxFrame = math.MaxUint32 + binaryOverhead // the length field is 32 bits
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Binary is the default Codec: a compact, versioned, length-prefixed and
// CRC-32C checksummed frame (layout above). The zero value is ready to use
// and Binary is safe for concurrent use.
//
// Encode allocates the output once, sized in advance. Decode allocates the
// Response and Policy (one allocation), one string holding the URL and all
// header names and values, one []string for all header values, the header
// map, and the policy's own strings; the Body aliases data, so Decode retains
// data and the caller must not modify it afterwards. A forged count can
// never make Decode allocate more than a small constant multiple of len(data)
// (under 20x in the worst cases tested, 40x asserted).
//
// Header fields are written in map iteration order, so two encodings of one
// response may differ byte for byte while decoding identically.
type Binary struct {
	// MaxSize bounds the size of an encoded entry in bytes, on Encode and
	// Decode (error wrapping tiercache.ErrTooLarge). 0 means DefaultMaxSize
	// (256 MiB); values above 4 GiB are clamped by the 32-bit length field.
	MaxSize int
}

var _ Codec = Binary{}

// maxFrame is binaryMaxFrame as a variable, so that converting it to int
// compiles on 32-bit platforms (where no int exceeds it).
var maxFrame uint64 = binaryMaxFrame

func (b Binary) limit() int {
	l := limit(b.MaxSize)
	if uint64(l) > maxFrame {
		l = int(maxFrame)
	}
	return l
}

// Encode returns the Binary encoding of resp and pol in a new slice owned by
// the caller. It costs one allocation. It returns an error wrapping
// tiercache.ErrInvalid for a nil argument or a status outside 0..999 and
// tiercache.ErrTooLarge when the encoding exceeds MaxSize.
func (b Binary) Encode(resp *tiercache.Response, pol *tiercache.Policy) ([]byte, error) {
	return b.Append(nil, resp, pol)
}

// Append appends the Binary encoding of resp and pol to dst and returns the
// extended slice, growing dst at most once. On error dst is returned
// unchanged in length. Errors are those of Encode.
func (b Binary) Append(dst []byte, resp *tiercache.Response, pol *tiercache.Policy) ([]byte, error) {
	if err := checkEncode("binary", resp, pol); err != nil {
		return dst, err
	}
	metaLen, nval := metaSize(resp)
	fixed := binaryOverhead + uvarintLen(uint64(resp.Status)) + uvarintLen(uint64(metaLen)) + metaLen +
		uvarintLen(uint64(len(resp.Body))) + len(resp.Body)
	if fixed > b.limit() {
		return dst, tooLarge("binary", "encode", fixed, b.limit())
	}
	start := len(dst)
	out := slices.Grow(dst, fixed+policyBound(pol))
	out = append(out, binaryMagic0, binaryMagic1, binaryMagic2, BinaryVersion, 0, 0, 0, 0)
	out = binary.AppendUvarint(out, uint64(resp.Status))
	out = binary.AppendUvarint(out, uint64(metaLen))
	metaStart := len(out)
	out = appendMeta(out, resp, nval)
	if len(out)-metaStart != metaLen {
		return dst, fmt.Errorf("codec: binary encode: header changed during encoding")
	}
	out = wire.AppendBytes(out, resp.Body)
	out, err := pol.AppendBinary(out)
	if err != nil {
		return dst, fmt.Errorf("codec: binary encode policy: %w", err)
	}
	if n := len(out) - start + binaryCRCLen; n > b.limit() {
		return dst, tooLarge("binary", "encode", n, b.limit())
	}
	frame := out[start:]
	binary.LittleEndian.PutUint32(frame[4:8], uint32(len(frame)-binaryHeadLen))
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(frame, castagnoli)), nil
}

// metaSize returns the exact byte length of the meta block of resp and the
// total number of header values.
func metaSize(resp *tiercache.Response) (size, nval int) {
	size = stringLen(len(resp.URL)) + uvarintLen(uint64(len(resp.Header)))
	for name, vs := range resp.Header {
		size += stringLen(len(name)) + uvarintLen(uint64(len(vs)))
		for _, v := range vs {
			size += stringLen(len(v))
		}
		nval += len(vs)
	}
	return size + uvarintLen(uint64(nval)), nval
}

// appendMeta appends the meta block of resp (without its length prefix).
func appendMeta(dst []byte, resp *tiercache.Response, nval int) []byte {
	dst = wire.AppendString(dst, resp.URL)
	dst = binary.AppendUvarint(dst, uint64(len(resp.Header)))
	dst = binary.AppendUvarint(dst, uint64(nval))
	for name, vs := range resp.Header {
		dst = wire.AppendString(dst, name)
		dst = binary.AppendUvarint(dst, uint64(len(vs)))
		for _, v := range vs {
			dst = wire.AppendString(dst, v)
		}
	}
	return dst
}

// policyBound returns an upper bound of the size of pol's wire form: its
// version byte, eight varints and its strings.
func policyBound(pol *tiercache.Policy) int {
	n := 1 + 8*binary.MaxVarintLen64 + len(pol.Reason())
	for _, f := range pol.Vary() {
		n += 2*binary.MaxVarintLen64 + len(f.Name) + len(f.Value)
	}
	return n
}

func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

func stringLen(n int) int { return uvarintLen(uint64(n)) + n }

// Decode decodes a Binary frame. It checks the size limit, length, magic,
// version and checksum before parsing anything. Errors wrap
// tiercache.ErrTooLarge (over MaxSize), tiercache.ErrVersion (unknown frame
// or policy version) or tiercache.ErrCorrupt (anything else); it never
// panics. The returned Body aliases data: the caller must not modify data
// afterwards. Costs are described on Binary.
func (b Binary) Decode(data []byte) (*tiercache.Response, *tiercache.Policy, error) {
	if err := b.checkFrame(data); err != nil {
		return nil, nil, err
	}
	return decodePayload(data[binaryHeadLen : len(data)-binaryCRCLen])
}

// checkFrame validates everything but the payload.
func (b Binary) checkFrame(data []byte) error {
	switch {
	case len(data) > b.limit():
		return tooLarge("binary", "decode", len(data), b.limit())
	case len(data) < binaryOverhead:
		return corrupt("binary", "truncated frame of %d bytes", len(data))
	case data[0] != binaryMagic0 || data[1] != binaryMagic1 || data[2] != binaryMagic2:
		return corrupt("binary", "bad magic % x", data[:3])
	case data[3] != BinaryVersion:
		return fmt.Errorf("%w: codec: binary version %d, want %d", tiercache.ErrVersion, data[3], BinaryVersion)
	}
	if n := binary.LittleEndian.Uint32(data[4:8]); uint64(n) != uint64(len(data)-binaryOverhead) {
		return corrupt("binary", "length field %d, payload has %d bytes", n, len(data)-binaryOverhead)
	}
	end := len(data) - binaryCRCLen
	if got, want := crc32.Checksum(data[:end], castagnoli), binary.LittleEndian.Uint32(data[end:]); got != want {
		return corrupt("binary", "checksum %#08x, want %#08x", got, want)
	}
	return nil
}

// entry holds a decoded response and policy in one allocation.
type entry struct {
	resp tiercache.Response
	pol  tiercache.Policy
}

// decodePayload parses a checksummed payload.
func decodePayload(p []byte) (*tiercache.Response, *tiercache.Policy, error) {
	r := wire.Reader{Buf: p}
	status := r.Uvarint(maxStatus)
	meta := r.Bytes()
	body := r.Bytes()
	if r.Err != nil {
		return nil, nil, corrupt("binary", "%v", r.Err)
	}
	e := new(entry)
	e.resp.Status = int(status)
	if err := decodeMeta(meta, &e.resp); err != nil {
		return nil, nil, err
	}
	e.resp.Body = body
	if err := e.pol.UnmarshalBinary(r.Buf); err != nil {
		return nil, nil, fmt.Errorf("codec: binary: %w", err)
	}
	normalise(&e.resp)
	return &e.resp, &e.pol, nil
}

// metaReader reads strings out of the meta block as substrings of one
// string conversion of it.
type metaReader struct {
	wire.Reader
	s string
}

// str reads a length-prefixed string without allocating. After a failure it
// returns "".
func (r *metaReader) str() string {
	b := r.Bytes()
	end := len(r.s) - r.Remaining()
	return r.s[end-len(b) : end]
}

// decodeMeta parses the meta block into resp.URL and resp.Header. Counts are
// bounded by the bytes left: a header name takes at least two bytes (its
// length and its value count), a value at least one.
func decodeMeta(meta []byte, resp *tiercache.Response) error {
	r := metaReader{Reader: wire.Reader{Buf: meta}, s: string(meta)}
	resp.URL = r.str()
	nhdr := int(r.Uvarint(uint64(r.Remaining() / 2)))
	nval := int(r.Uvarint(uint64(max(r.Remaining()-2*nhdr, 0))))
	if r.Err != nil {
		return corrupt("binary", "header: %v", r.Err)
	}
	h := make(http.Header, nhdr)
	vals := make([]string, nval)
	for range nhdr {
		name := r.str()
		cnt := int(r.Uvarint(uint64(len(vals))))
		vs := vals[:cnt:cnt]
		vals = vals[cnt:]
		for i := range vs {
			vs[i] = r.str()
		}
		if r.Err != nil {
			break
		}
		if _, dup := h[name]; dup {
			return corrupt("binary", "duplicate header %s", keyfmt.Quote(name))
		}
		h[name] = vs
	}
	switch {
	case r.Err != nil:
		return corrupt("binary", "header: %v", r.Err)
	case len(vals) != 0:
		return corrupt("binary", "header: %d values unclaimed", len(vals))
	case r.Remaining() != 0:
		return corrupt("binary", "header: %d trailing bytes", r.Remaining())
	}
	resp.Header = h
	return nil
}

// corrupt returns an error wrapping tiercache.ErrCorrupt.
func corrupt(name, format string, args ...any) error {
	return fmt.Errorf("%w: codec: %s: %s", tiercache.ErrCorrupt, name, fmt.Sprintf(format, args...))
}
