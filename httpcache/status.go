package httpcache

import (
	"net/http"
	"strconv"
	"time"
)

// Cache-Status fwd values (RFC 9211 §2.2).
const (
	fwdBypass   = "bypass"    // the mode or the request bypassed the cache
	fwdMethod   = "method"    // the method is not cacheable
	fwdMiss     = "miss"      // stored, but purged (WithPurge)
	fwdURIMiss  = "uri-miss"  // nothing stored for the URI
	fwdVaryMiss = "vary-miss" // stored, but no variant for these request headers
	fwdRequest  = "request"   // the request asked for a forward (no-cache, max-age, mode)
	fwdStale    = "stale"     // the stored response was stale and needed validation
)

// status is one Cache-Status list member (RFC 9211).
type status struct {
	hit       bool
	fwd       string
	fwdStatus int
	stored    bool
	collapsed bool
	hasTTL    bool
	ttl       time.Duration
	detail    string
	outcome   outcome // what Stats counts the request as
}

// withTTL returns st with the ttl parameter set.
func (st status) withTTL(d time.Duration) status {
	st.hasTTL, st.ttl = true, d
	return st
}

// setStatus appends the Transport's Cache-Status member to h, keeping the
// members of caches closer to the origin before it (RFC 9211 §2). It does
// nothing when WithCacheStatus(false) is set.
func (t *Transport) setStatus(h http.Header, st status) {
	if !t.opts.cacheStatus || h == nil {
		return
	}
	h["Cache-Status"] = append(h["Cache-Status"], t.formatStatus(st))
}

// formatStatus returns the Transport's Cache-Status member for st. It
// allocates the returned string only.
func (t *Transport) formatStatus(st status) string {
	var buf [96]byte
	b := buf[:0]
	b = appendToken(b, t.opts.name)
	if st.hit {
		b = append(b, "; hit"...)
	}
	if st.fwd != "" {
		b = append(b, "; fwd="...)
		b = append(b, st.fwd...)
	}
	if st.fwdStatus != 0 {
		b = append(b, "; fwd-status="...)
		b = strconv.AppendInt(b, int64(st.fwdStatus), 10)
	}
	if st.stored {
		b = append(b, "; stored"...)
	}
	if st.collapsed {
		b = append(b, "; collapsed"...)
	}
	if st.hasTTL {
		b = append(b, "; ttl="...)
		b = strconv.AppendInt(b, int64(st.ttl/time.Second), 10)
	}
	if st.detail != "" {
		b = append(b, "; detail="...)
		b = appendToken(b, st.detail)
	}
	return string(b)
}

// appendToken appends s as an sf-token when it is one, else as an sf-string.
func appendToken(b []byte, s string) []byte {
	if isToken(s) {
		return append(b, s...)
	}
	return strconv.AppendQuote(b, s)
}

func isToken(s string) bool {
	if s == "" || !(s[0] == '*' || s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c < 0x80 && c > ' ' && c != '"' && c != '(' && c != ')' && c != ',' && c != ';' &&
			c != '<' && c != '=' && c != '>' && c != '?' && c != '@' && c != '[' && c != '\\' &&
			c != ']' && c != '{' && c != '}':
		default:
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
