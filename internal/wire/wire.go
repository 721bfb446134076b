// Package wire holds the bounds-checked readers and appenders shared by the
// tiercache binary formats (the Policy wire form and codec.Binary).
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrTruncated reports input that ends inside a field.
var ErrTruncated = errors.New("truncated")

// AppendString appends a uvarint length and the bytes of s.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendBytes appends a uvarint length and b.
func AppendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// Reader decodes varints and length-prefixed fields with bounds checks. The
// first failure sticks in Err, and every later read returns zero values, so a
// decoder checks Err once at the end. A Reader never allocates.
type Reader struct {
	Buf []byte
	Err error
}

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.Buf) }

// Fail records a failure (the first one wins) and stops further reads.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf(format+" (%d bytes left)", append(args, len(r.Buf))...)
	}
	r.Buf = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.Buf) == 0 {
		r.Fail("%w", ErrTruncated)
		return 0
	}
	b := r.Buf[0]
	r.Buf = r.Buf[1:]
	return b
}

// Uvarint reads a uvarint that must not exceed limit.
func (r *Reader) Uvarint(limit uint64) uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.Buf)
	switch {
	case n <= 0:
		r.Fail("bad uvarint")
		return 0
	case v > limit:
		r.Fail("value %d over limit %d", v, limit)
		return 0
	}
	r.Buf = r.Buf[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.Buf)
	if n <= 0 {
		r.Fail("bad varint")
		return 0
	}
	r.Buf = r.Buf[n:]
	return v
}

// Bytes reads a length-prefixed field. The result aliases the input and has
// its capacity clipped to its length.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint(1<<63 - 1)
	if r.Err != nil {
		return nil
	}
	if n > uint64(len(r.Buf)) {
		r.Fail("%w: field of %d bytes", ErrTruncated, n)
		return nil
	}
	b := r.Buf[:n:n]
	r.Buf = r.Buf[n:]
	return b
}

// String reads a length-prefixed field as a string (one allocation unless empty).
func (r *Reader) String() string { return string(r.Bytes()) }
