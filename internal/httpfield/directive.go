package httpfield

import (
	"iter"
	"math"
	"net/textproto"
	"strings"
)

// MaxDeltaSeconds is the value a delta-seconds greater than any a cache can
// represent is taken as (RFC 9111 §1.2.2: 2^31).
const MaxDeltaSeconds = 1 << 31

// Directive is one cache directive (RFC 9111 §5.2): its name in lower case
// and its argument, unquoted, when it has one.
type Directive struct {
	Name     string
	Value    string
	HasValue bool
}

// Directives returns the directives of the Cache-Control lines in lines,
// in order: every line counts, quoted arguments are unquoted (a backslash
// escapes the next character), names are lower-cased. A directive whose
// name is empty is skipped. It allocates only for names with upper-case
// letters and for quoted arguments with escapes.
func Directives(lines []string) iter.Seq[Directive] {
	return func(yield func(Directive) bool) {
		for e := range Elements(lines) {
			if d := ParseDirective(e); d.Name != "" && !yield(d) {
				return
			}
		}
	}
}

// ParseDirective splits one directive, name [ "=" ( token / quoted-string ) ].
func ParseDirective(s string) Directive {
	name, value, has := strings.Cut(s, "=")
	d := Directive{Name: strings.ToLower(textproto.TrimString(name)), HasValue: has}
	if has {
		d.Value = unquote(textproto.TrimString(value))
	}
	return d
}

// unquote returns the content of a quoted-string, or s unchanged when it is
// not quoted. An unterminated quoted string keeps what follows the quote.
func unquote(s string) string {
	if len(s) == 0 || s[0] != '"' {
		return s
	}
	s = s[1:]
	if !strings.ContainsRune(s, '\\') {
		if i := strings.IndexByte(s, '"'); i >= 0 {
			return s[:i]
		}
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DeltaSeconds parses a delta-seconds argument (RFC 9111 §1.2.2): one or
// more ASCII digits. A value too large to represent is MaxDeltaSeconds.
// ok is false for anything else (empty, a sign, a fraction, a letter).
func DeltaSeconds(v string) (secs int64, ok bool) {
	n, ok := digits(v)
	return min(n, MaxDeltaSeconds), ok
}

// digits parses 1*DIGIT, saturating at math.MaxInt64.
func digits(v string) (n int64, ok bool) {
	if v == "" {
		return 0, false
	}
	const limit = math.MaxInt64 / 10
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n >= limit {
			n = math.MaxInt64
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
