// Package httpfield parses HTTP field values the way a cache needs them:
// comma-separated lists (RFC 9110 §5.6.1) honouring quoted strings, cache
// directives (RFC 9111 §5.2), delta-seconds (§1.2.2), field-name lists
// (Vary, Connection) and byte ranges (RFC 9110 §14). It is the one parser of
// the module: tiercache's Policy, httpcache and Compress use it, so a fix to
// the grammar is made once.
//
// Every function is lenient in the way RFC 9110 asks of recipients: empty
// list elements and surrounding whitespace are ignored, and a malformed
// element is dropped on its own instead of failing the whole field. None
// of them allocates unless it says so. Standard library only.
package httpfield

import (
	"iter"
	"net/textproto"
	"slices"
	"strings"
)

// Elements returns the elements of the comma-separated lists in lines (the
// lines of one field, in order), trimmed of whitespace, empty ones skipped.
// A comma inside a quoted string does not split (no-cache="a, b" and the
// entity tag "x,y" are one element each); an unterminated quoted string
// runs to the end of its line. It does not allocate.
func Elements(lines []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, line := range lines {
			for rest := line; rest != ""; {
				var e string
				e, rest = cut(rest)
				if e = textproto.TrimString(e); e != "" && !yield(e) {
					return
				}
			}
		}
	}
}

// cut returns the first element of list s (up to an unquoted comma) and the
// rest after that comma.
func cut(s string) (elem, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// First returns the first element of the lists in lines, or "" when there
// is none. Age uses it: a list-valued Age (Age: 7200, 0) is read as its
// first member (RFC 9111 §5.1).
func First(lines []string) string {
	for e := range Elements(lines) {
		return e
	}
	return ""
}

// HasToken reports whether lines hold the element token, compared without
// regard to ASCII case (a Pragma: no-cache, a Vary: *).
func HasToken(lines []string, token string) bool {
	for e := range Elements(lines) {
		if strings.EqualFold(e, token) {
			return true
		}
	}
	return false
}

// Normalize returns the elements of lines joined by ",": "gzip,  br" and the
// two lines "gzip" and "br" both give "gzip,br". It is the form in which
// Vary compares request header values. It allocates when lines hold more
// than one element or an element with surrounding whitespace.
func Normalize(lines []string) string {
	if len(lines) == 1 && !strings.ContainsRune(lines[0], ',') {
		return textproto.TrimString(lines[0])
	}
	var b strings.Builder
	for e := range Elements(lines) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e)
	}
	return b.String()
}

// EqualNormalized reports whether Normalize(lines) == norm, without
// allocating.
func EqualNormalized(lines []string, norm string) bool {
	for e := range Elements(lines) {
		if !strings.HasPrefix(norm, e) {
			return false
		}
		norm = norm[len(e):]
		if norm == "" {
			continue
		}
		if norm[0] != ',' || len(norm) == 1 {
			return false
		}
		norm = norm[1:]
	}
	return norm == ""
}

// FieldNames returns the field names listed in lines (a Vary or Connection
// field), in canonical form (textproto.CanonicalMIMEHeaderKey), sorted and
// without duplicates, and whether "*" was among them. It allocates the
// slice (nil when there are no names).
func FieldNames(lines []string) (names []string, star bool) {
	for e := range Elements(lines) {
		if e == "*" {
			star = true
			continue
		}
		names = append(names, textproto.CanonicalMIMEHeaderKey(e))
	}
	slices.Sort(names)
	return slices.Compact(names), star
}
