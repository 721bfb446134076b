package httpcache

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// This file reads the cache directives that tiercache.NewPolicy does not
// know: response must-understand (RFC 9111 §5.2.2.3) and request
// stale-if-error (RFC 5861 §4).

// directives splits Cache-Control field lines into trimmed directives,
// honouring quoted strings (no-cache="a, b" is one directive).
func directives(lines []string) []string {
	var out []string
	for _, line := range lines {
		start, quoted := 0, false
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '\\' && quoted:
				i++
			case c == '"':
				quoted = !quoted
			case c == ',' && !quoted:
				out = appendTrimmed(out, line[start:i])
				start = i + 1
			}
		}
		out = appendTrimmed(out, line[start:])
	}
	return out
}

func appendTrimmed(out []string, s string) []string {
	if s = textproto.TrimString(s); s != "" {
		out = append(out, s)
	}
	return out
}

// directiveName returns the lower-case name of directive d.
func directiveName(d string) string {
	name, _, _ := strings.Cut(d, "=")
	return strings.ToLower(textproto.TrimString(name))
}

// understoodStatus reports the status codes whose caching requirements the
// Transport implements (RFC 9111 §5.2.2.3): the final status codes defined
// by RFC 9110 §15, except 206 (partial content is never combined, §3.4) and
// 304 (a validation answer, never stored).
func understoodStatus(code int) bool {
	switch code {
	case 200, 201, 202, 203, 204, 205,
		300, 301, 302, 303, 307, 308,
		400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
		500, 501, 502, 503, 504, 505:
		return true
	}
	return false
}

// policyHeader returns the header from which the policy of a response with
// status code and header h is computed (RFC 9111 §3, §5.2.2.3), and
// whether it differs from h. Without must-understand it is h itself. With must-understand, a response whose
// status code is understood is judged without its no-store directives, and
// any other response gets a no-store, so that it is never stored. h is not
// modified; the stored header keeps every directive.
func policyHeader(code int, h http.Header) (http.Header, bool) {
	lines := h["Cache-Control"]
	if len(lines) == 0 || !containsFold(lines, "must-understand") {
		return h, false
	}
	dirs := directives(lines)
	found := false
	kept := dirs[:0:0]
	for _, d := range dirs {
		switch directiveName(d) {
		case "must-understand":
			found = true
		case "no-store":
			continue
		}
		kept = append(kept, d)
	}
	if !found {
		return h, false
	}
	if !understoodStatus(code) {
		kept = append(kept, "no-store")
	}
	out := h.Clone()
	out["Cache-Control"] = []string{strings.Join(kept, ", ")}
	return out, true
}

// containsFold reports whether any line contains sub, ignoring ASCII case.
func containsFold(lines []string, sub string) bool {
	for _, l := range lines {
		if len(l) >= len(sub) && strings.Contains(strings.ToLower(l), sub) {
			return true
		}
	}
	return false
}

// requestStaleIfError returns the stale-if-error window of a request
// (RFC 5861 §4: the client accepts a response that much stale when the
// origin fails); ok is false when the request has none. The first valid
// occurrence wins; a malformed value is ignored.
func requestStaleIfError(h http.Header) (d time.Duration, ok bool) {
	lines := h["Cache-Control"]
	if len(lines) == 0 || !containsFold(lines, "stale-if-error") {
		return 0, false
	}
	for _, dir := range directives(lines) {
		if directiveName(dir) != "stale-if-error" {
			continue
		}
		_, v, _ := strings.Cut(dir, "=")
		v = strings.Trim(textproto.TrimString(v), `"`)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		return time.Duration(min(n, 1<<31-1)) * time.Second, true
	}
	return 0, false
}
