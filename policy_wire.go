package tiercache

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/wire"
)

// PolicyWireVersion is the newest version of the Policy wire forms this
// package reads. A policy is written as version 1 unless it carries
// extension records, so that readers built before version 2 read it;
// decoders read versions 1 and 2 and reject any other with an error
// wrapping ErrVersion.
//
// Binary layout (MarshalBinary, AppendBinary):
//
//	version   byte     (1 or 2)
//	flags     uvarint  (known bits only)
//	reason    uvarint length, bytes
//	born      varint   Unix nanoseconds at age 0
//	lifetime  uvarint  nanoseconds
//	swr       uvarint  nanoseconds
//	sie       uvarint  nanoseconds
//	grace     uvarint  nanoseconds
//	nvary     uvarint
//	nvary x   name: uvarint length, bytes; value: uvarint length, bytes
//	version 2 only, to the end of the form, one or more extension records:
//	          tag: uvarint; data: uvarint length, bytes
//
// Extension records are how new data joins the form: a reader skips the
// tags it does not know but keeps every record and writes it back
// unchanged, so an entry written by newer code survives promotion and
// re-encoding by older code. No tag is defined yet.
//
// The form carries no checksum of its own: codecs checksum the whole entry.
const PolicyWireVersion = 2

// policyWireV1 is the version written when a policy has no extension records.
const policyWireV1 = 1

// maxWireDuration bounds decoded durations so arithmetic cannot overflow.
const maxWireDuration = uint64(100 * 365 * 24 * time.Hour)

// AppendBinary appends the binary wire form of p to dst (encoding.BinaryAppender).
func (p *Policy) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, p.wireVersion())
	dst = binary.AppendUvarint(dst, uint64(p.flags))
	dst = wire.AppendString(dst, p.reason)
	dst = binary.AppendVarint(dst, p.born)
	for _, d := range [...]time.Duration{p.lifetime, p.swr, p.sie, p.grace} {
		dst = binary.AppendUvarint(dst, uint64(d))
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.vary)))
	for _, f := range p.vary {
		dst = wire.AppendString(dst, f.Name)
		dst = wire.AppendString(dst, f.Value)
	}
	return append(dst, p.ext...), nil
}

func (p *Policy) wireVersion() byte {
	if len(p.ext) > 0 {
		return PolicyWireVersion
	}
	return policyWireV1
}

// MarshalBinary returns the binary wire form of p (encoding.BinaryMarshaler;
// gob uses it too).
func (p *Policy) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes the binary wire form into p. Truncated, oversized
// or malformed input returns an error wrapping ErrCorrupt (ErrVersion for an
// unknown version); it never panics and allocates at most len(data) bytes.
func (p *Policy) UnmarshalBinary(data []byte) error {
	r := wire.Reader{Buf: data}
	v := r.Byte()
	if r.Err == nil && v != policyWireV1 && v != PolicyWireVersion {
		return fmt.Errorf("%w: policy version %d, want %d or %d", ErrVersion, v, policyWireV1, PolicyWireVersion)
	}
	var q Policy
	flags := r.Uvarint(uint64(flagKnown - 1))
	q.flags = uint16(flags)
	q.reason = r.String()
	q.born = r.Varint()
	for _, d := range [...]*time.Duration{&q.lifetime, &q.swr, &q.sie, &q.grace} {
		*d = time.Duration(r.Uvarint(maxWireDuration))
	}
	n := r.Uvarint(uint64(r.Remaining() / 2))
	if n > 0 && r.Err == nil {
		q.vary = make([]VaryField, n)
		for i := range q.vary {
			q.vary[i] = VaryField{Name: r.String(), Value: r.String()}
		}
	}
	if v == PolicyWireVersion {
		q.ext = readExtensions(&r)
	}
	if r.Err == nil && r.Remaining() != 0 {
		r.Fail("trailing bytes")
	}
	if r.Err != nil {
		return fmt.Errorf("%w: policy: %v", ErrCorrupt, r.Err)
	}
	*p = q
	return nil
}

// readExtensions reads the extension records that end a version 2 form
// and returns a copy of their bytes (at least one record is required).
func readExtensions(r *wire.Reader) []byte {
	start := r.Buf
	if r.Err == nil && r.Remaining() == 0 {
		r.Fail("version 2 without extension records")
	}
	for r.Err == nil && r.Remaining() > 0 {
		r.Uvarint(math.MaxUint32)
		r.Bytes()
	}
	if r.Err != nil {
		return nil
	}
	return bytes.Clone(start)
}

// policyJSON is the JSON wire form; times and durations are integer
// nanoseconds so that decoding is exact.
type policyJSON struct {
	Version  int         `json:"v"`
	Flags    uint16      `json:"flags"`
	Reason   string      `json:"reason,omitempty"`
	Born     int64       `json:"born"`
	Lifetime int64       `json:"lifetime"`
	SWR      int64       `json:"swr,omitempty"`
	SIE      int64       `json:"sie,omitempty"`
	Grace    int64       `json:"grace,omitempty"`
	Vary     []VaryField `json:"vary,omitempty"`
	Ext      []byte      `json:"ext,omitempty"` // extension records, as in the binary form
}

// MarshalJSON returns the JSON wire form of p.
// Vary names and values that are not valid UTF-8 cannot be represented
// exactly in JSON and give an error wrapping ErrInvalid.
func (p *Policy) MarshalJSON() ([]byte, error) {
	for _, f := range p.vary {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			return nil, fmt.Errorf("%w: policy Vary field %s is not valid UTF-8", ErrInvalid, keyfmt.Quote(f.Name))
		}
	}
	if !utf8.ValidString(p.reason) {
		return nil, fmt.Errorf("%w: policy reason is not valid UTF-8", ErrInvalid)
	}
	return json.Marshal(policyJSON{
		Version: int(p.wireVersion()), Flags: p.flags, Ext: p.ext, Reason: p.reason, Born: p.born,
		Lifetime: int64(p.lifetime), SWR: int64(p.swr), SIE: int64(p.sie), Grace: int64(p.grace),
		Vary: p.vary,
	})
}

// UnmarshalJSON decodes the JSON wire form into p, with the same checks as
// UnmarshalBinary.
func (p *Policy) UnmarshalJSON(data []byte) error {
	var w policyJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("%w: policy: %v", ErrCorrupt, err)
	}
	if w.Version != policyWireV1 && w.Version != PolicyWireVersion {
		return fmt.Errorf("%w: policy version %d, want %d or %d", ErrVersion, w.Version, policyWireV1, PolicyWireVersion)
	}
	if (w.Version == PolicyWireVersion) != (len(w.Ext) > 0) {
		return fmt.Errorf("%w: policy: version %d with %d bytes of extension records", ErrCorrupt, w.Version, len(w.Ext))
	}
	if len(w.Ext) > 0 {
		r := wire.Reader{Buf: w.Ext}
		if readExtensions(&r); r.Err != nil {
			return fmt.Errorf("%w: policy: %v", ErrCorrupt, r.Err)
		}
	}
	if w.Flags >= flagKnown {
		return fmt.Errorf("%w: policy: unknown flags %#x", ErrCorrupt, w.Flags)
	}
	for _, d := range [...]int64{w.Lifetime, w.SWR, w.SIE, w.Grace} {
		if d < 0 || uint64(d) > maxWireDuration {
			return fmt.Errorf("%w: policy: duration %d out of range", ErrCorrupt, d)
		}
	}
	*p = Policy{flags: w.Flags, reason: w.Reason, born: w.Born, lifetime: time.Duration(w.Lifetime),
		swr: time.Duration(w.SWR), sie: time.Duration(w.SIE), grace: time.Duration(w.Grace), vary: w.Vary, ext: w.Ext}
	return nil
}
