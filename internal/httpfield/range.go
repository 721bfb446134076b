package httpfield

import (
	"net/textproto"
	"strings"
)

// SingleRange parses a Range field value (RFC 9110 §14.2) for a
// representation of size bytes. It reports ok only for one byte range
// (int-range or suffix-range) that is satisfiable (§14.1.1): first is the
// offset of its first byte and n its length, clamped to the
// representation. Another unit, several ranges, an invalid or an
// unsatisfiable range all give ok == false: the caller leaves such a
// request to the origin. It does not allocate.
func SingleRange(v string, size int64) (first, n int64, ok bool) {
	unit, set, found := strings.Cut(v, "=")
	if !found || !strings.EqualFold(textproto.TrimString(unit), "bytes") || size <= 0 {
		return 0, 0, false
	}
	spec, more := cut(set)
	if textproto.TrimString(more) != "" {
		return 0, 0, false // several ranges
	}
	lo, hi, found := strings.Cut(textproto.TrimString(spec), "-")
	if !found {
		return 0, 0, false
	}
	if lo == "" { // suffix-range: the last hi bytes
		suffix, ok := digits(hi)
		if !ok || suffix == 0 {
			return 0, 0, false
		}
		n = min(suffix, size)
		return size - n, n, true
	}
	start, ok := digits(lo)
	if !ok || start >= size {
		return 0, 0, false
	}
	last := size - 1
	if hi != "" {
		end, ok := digits(hi)
		if !ok || end < start {
			return 0, 0, false
		}
		last = min(end, last)
	}
	return start, last - start + 1, true
}
