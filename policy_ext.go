package tiercache

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/tiercache/tiercache/internal/wire"
)

// Extension record tags of the Policy wire form (see PolicyWireVersion).
// A tag is registered here once and never reused; a reader that does not
// know a tag keeps its record as it is.
const (
	// ExtensionMetadata holds user metadata (Policy.Metadata): a uvarint
	// count, then count pairs of key and value, each a uvarint length and
	// its bytes, sorted by key.
	ExtensionMetadata uint64 = 1
	// ExtensionPurge holds the purge generations httpcache records with a
	// response (httpcache's purge.go describes the layout).
	ExtensionPurge uint64 = 2
)

// Extension returns the data of p's extension record tag, or nil when p
// has none. The data is shared with p: treat it as read-only. It does not
// allocate; it scans p's records (none for most policies).
func (p *Policy) Extension(tag uint64) []byte {
	r := wire.Reader{Buf: p.ext}
	for r.Remaining() > 0 {
		t := r.Uvarint(math.MaxUint32)
		data := r.Bytes()
		if r.Err != nil {
			return nil
		}
		if t == tag {
			return data
		}
	}
	return nil
}

// WithExtension returns a copy of p whose extension record tag holds data,
// replacing any record p has under tag; nil or empty data removes the
// record. p is not changed. It allocates the copy and its records.
func (p *Policy) WithExtension(tag uint64, data []byte) *Policy {
	q := *p
	q.ext = nil
	r := wire.Reader{Buf: p.ext}
	for r.Remaining() > 0 {
		start := r.Buf
		t := r.Uvarint(math.MaxUint32)
		r.Bytes()
		if r.Err != nil {
			break
		}
		if t != tag {
			q.ext = append(q.ext, start[:len(start)-r.Remaining()]...)
		}
	}
	if len(data) > 0 {
		q.ext = binary.AppendUvarint(q.ext, tag)
		q.ext = wire.AppendBytes(q.ext, data)
	}
	return &q
}

// Metadata returns the user metadata stored with p (WithMetadata) in a new
// map the caller owns, or nil when there is none. Malformed metadata reads
// as none.
func (p *Policy) Metadata() map[string]string {
	data := p.Extension(ExtensionMetadata)
	if len(data) == 0 {
		return nil
	}
	r := wire.Reader{Buf: data}
	n := r.Uvarint(uint64(len(data) / 2))
	m := make(map[string]string, n)
	for range n {
		k := r.String()
		m[k] = r.String()
	}
	if r.Err != nil || r.Remaining() != 0 {
		return nil
	}
	return m
}

// WithMetadata returns a copy of p carrying the user key/values m, which
// every codec stores with the entry and returns with it (an extension
// record of the wire form: readers built before it keep it, and entries
// written before it read as having none). An empty m removes the
// metadata. p and m are not changed.
func (p *Policy) WithMetadata(m map[string]string) *Policy {
	if len(m) == 0 {
		return p.WithExtension(ExtensionMetadata, nil)
	}
	keys := make([]string, 0, len(m))
	size := binary.MaxVarintLen64
	for k, v := range m {
		keys = append(keys, k)
		size += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	slices.Sort(keys)
	data := binary.AppendUvarint(make([]byte, 0, size), uint64(len(keys)))
	for _, k := range keys {
		data = wire.AppendString(data, k)
		data = wire.AppendString(data, m[k])
	}
	return p.WithExtension(ExtensionMetadata, data)
}
