package redis

import (
	"encoding/binary"
	"fmt"

	"github.com/tiercache/tiercache"
)

// Message layout on the channel (version 1), all lengths in bytes:
//
//	offset  size  field
//	0       1     wireVersion (1)
//	1       1     n, length of Origin (at most 255)
//	2       n     Origin
//	2+n     var   uvarint length of Kind, then Kind
//	...     var   uvarint length of Key, then Key
//	...     rest  Data (absent when empty)
//
// A message of another version is skipped (counted as corrupt), so that a
// newer publisher cannot break an older subscriber.
const (
	wireVersion   = 1
	offVersion    = 0
	offOriginLen  = 1
	offOrigin     = 2
	maxOriginLen  = 255
	maxVarintLen  = binary.MaxVarintLen64
	wireFixedSize = offOrigin + 2*maxVarintLen
)

// appendMessage appends the wire form of m to dst.
func appendMessage(dst []byte, m tiercache.BusMessage) ([]byte, error) {
	if len(m.Origin) > maxOriginLen {
		return dst, fmt.Errorf("redis: bus: %w: Origin of %d bytes, limit %d", tiercache.ErrInvalid, len(m.Origin), maxOriginLen)
	}
	dst = append(dst, wireVersion, byte(len(m.Origin)))
	dst = append(dst, m.Origin...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Kind)))
	dst = append(dst, m.Kind...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Key)))
	dst = append(dst, m.Key...)
	return append(dst, m.Data...), nil
}

// parseMessage decodes a payload. The strings of the result share the
// payload's memory (no copy); Data is a copy, nil when empty.
func parseMessage(p string) (tiercache.BusMessage, error) {
	var m tiercache.BusMessage
	if len(p) < offOrigin {
		return m, fmt.Errorf("redis: bus: %w: message of %d bytes", tiercache.ErrCorrupt, len(p))
	}
	if p[offVersion] != wireVersion {
		return m, fmt.Errorf("redis: bus: %w: message version %d", tiercache.ErrVersion, p[offVersion])
	}
	n := int(p[offOriginLen])
	rest, ok := cut(p[offOrigin:], n)
	if !ok {
		return m, fmt.Errorf("redis: bus: %w: truncated origin", tiercache.ErrCorrupt)
	}
	m.Origin = p[offOrigin : offOrigin+n]
	if m.Kind, rest, ok = field(rest); !ok {
		return m, fmt.Errorf("redis: bus: %w: truncated kind", tiercache.ErrCorrupt)
	}
	if m.Key, rest, ok = field(rest); !ok {
		return m, fmt.Errorf("redis: bus: %w: truncated key", tiercache.ErrCorrupt)
	}
	if rest != "" {
		m.Data = []byte(rest)
	}
	return m, nil
}

// field reads a uvarint length and that many bytes from s.
func field(s string) (v, rest string, ok bool) {
	var buf [maxVarintLen]byte
	k := copy(buf[:], s)
	n, w := binary.Uvarint(buf[:k])
	if w <= 0 || n > uint64(len(s)-w) {
		return "", s, false
	}
	s = s[w:]
	return s[:n], s[n:], true
}

// cut reports whether s holds at least n bytes and returns what follows.
func cut(s string, n int) (string, bool) {
	if n > len(s) {
		return s, false
	}
	return s[n:], true
}
