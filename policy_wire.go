package tiercache

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tiercache/tiercache/internal/wire"
)

// PolicyWireVersion is the version of the Policy wire forms written by this
// package. Decoders reject any other version with an error wrapping ErrVersion.
//
// Binary layout (MarshalBinary, AppendBinary), version 1:
//
//	version   byte     (1)
//	flags     uvarint  (known bits only)
//	reason    uvarint length, bytes
//	born      varint   Unix nanoseconds at age 0
//	lifetime  uvarint  nanoseconds
//	swr       uvarint  nanoseconds
//	sie       uvarint  nanoseconds
//	grace     uvarint  nanoseconds
//	nvary     uvarint
//	nvary x   name: uvarint length, bytes; value: uvarint length, bytes
//
// The form carries no checksum of its own: codecs checksum the whole entry.
const PolicyWireVersion = 1

// maxWireDuration bounds decoded durations so arithmetic cannot overflow.
const maxWireDuration = uint64(100 * 365 * 24 * time.Hour)

// AppendBinary appends the binary wire form of p to dst (encoding.BinaryAppender).
func (p *Policy) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, PolicyWireVersion)
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
	return dst, nil
}

// MarshalBinary returns the binary wire form of p (encoding.BinaryMarshaler;
// gob uses it too).
func (p *Policy) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes the binary wire form into p. Truncated, oversized
// or malformed input returns an error wrapping ErrCorrupt (ErrVersion for an
// unknown version); it never panics and allocates at most len(data) bytes.
func (p *Policy) UnmarshalBinary(data []byte) error {
	r := wire.Reader{Buf: data}
	if v := r.Byte(); r.Err == nil && v != PolicyWireVersion {
		return fmt.Errorf("%w: policy version %d, want %d", ErrVersion, v, PolicyWireVersion)
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
	if r.Err == nil && r.Remaining() != 0 {
		r.Fail("trailing bytes")
	}
	if r.Err != nil {
		return fmt.Errorf("%w: policy: %v", ErrCorrupt, r.Err)
	}
	*p = q
	return nil
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
}

// MarshalJSON returns the JSON wire form of p.
// Vary names and values that are not valid UTF-8 cannot be represented
// exactly in JSON and give an error wrapping ErrInvalid.
func (p *Policy) MarshalJSON() ([]byte, error) {
	for _, f := range p.vary {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			return nil, fmt.Errorf("%w: policy Vary field %q is not valid UTF-8", ErrInvalid, f.Name)
		}
	}
	if !utf8.ValidString(p.reason) {
		return nil, fmt.Errorf("%w: policy reason is not valid UTF-8", ErrInvalid)
	}
	return json.Marshal(policyJSON{
		Version: PolicyWireVersion, Flags: p.flags, Reason: p.reason, Born: p.born,
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
	if w.Version != PolicyWireVersion {
		return fmt.Errorf("%w: policy version %d, want %d", ErrVersion, w.Version, PolicyWireVersion)
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
		swr: time.Duration(w.SWR), sie: time.Duration(w.SIE), grace: time.Duration(w.Grace), vary: w.Vary}
	return nil
}
