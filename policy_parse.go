package tiercache

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"
)

// This file reads header fields for NewPolicy and ParseRequestDirectives:
// Cache-Control (every line, directive by directive), Age, Vary.

// parseResponseDirectives joins every Cache-Control line and parses each
// directive on its own, so one malformed directive (or a bare
// stale-while-revalidate) is dropped without losing the others. The first
// occurrence of a repeated directive wins (RFC 9111 §4.2.1).
func parseResponseDirectives(lines []string) *cacheobject.ResponseCacheDirectives {
	out, _ := cacheobject.ParseResponseCacheControl("")
	for _, d := range splitDirectives(lines) {
		one, err := cacheobject.ParseResponseCacheControl(d)
		if err != nil {
			// A restrictive directive with a stray argument (no-store=1) still
			// restricts; a value directive without a usable value is dropped.
			name, _, _ := strings.Cut(d, "=")
			if one, err = cacheobject.ParseResponseCacheControl(name); err != nil {
				continue
			}
		}
		out.MustRevalidate = out.MustRevalidate || one.MustRevalidate
		out.NoCachePresent = out.NoCachePresent || one.NoCachePresent
		out.NoStore = out.NoStore || one.NoStore
		out.NoTransform = out.NoTransform || one.NoTransform
		out.Public = out.Public || one.Public
		out.PrivatePresent = out.PrivatePresent || one.PrivatePresent
		out.ProxyRevalidate = out.ProxyRevalidate || one.ProxyRevalidate
		out.Immutable = out.Immutable || one.Immutable
		out.MaxAge = firstDelta(out.MaxAge, one.MaxAge)
		out.SMaxAge = firstDelta(out.SMaxAge, one.SMaxAge)
		out.StaleIfError = firstDelta(out.StaleIfError, one.StaleIfError)
		out.StaleWhileRevalidate = firstDelta(out.StaleWhileRevalidate, one.StaleWhileRevalidate)
	}
	return out
}

// parseRequestDirectives is parseResponseDirectives for request directives.
func parseRequestDirectives(lines []string) *cacheobject.RequestCacheDirectives {
	out, _ := cacheobject.ParseRequestCacheControl("")
	for _, d := range splitDirectives(lines) {
		one, err := cacheobject.ParseRequestCacheControl(d)
		if err != nil {
			name, _, _ := strings.Cut(d, "=")
			if one, err = cacheobject.ParseRequestCacheControl(name); err != nil {
				continue
			}
		}
		out.NoStore = out.NoStore || one.NoStore
		out.NoCache = out.NoCache || one.NoCache
		out.OnlyIfCached = out.OnlyIfCached || one.OnlyIfCached
		out.MaxAge = firstDelta(out.MaxAge, one.MaxAge)
		out.MinFresh = firstDelta(out.MinFresh, one.MinFresh)
		// cachecontrol sets MaxStaleSet only for a bare max-stale.
		if !out.MaxStaleSet && (one.MaxStaleSet || one.MaxStale != -1) {
			out.MaxStale, out.MaxStaleSet = one.MaxStale, true
		}
	}
	return out
}

func firstDelta(have, next cacheobject.DeltaSeconds) cacheobject.DeltaSeconds {
	if have != -1 {
		return have
	}
	return next
}

// splitDirectives splits Cache-Control field lines into single directives,
// honouring quoted strings (no-cache="a, b" is one directive).
func splitDirectives(lines []string) []string {
	var out []string
	for _, line := range lines {
		start, quoted := 0, false
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				if quoted {
					i++
				}
			case '"':
				quoted = !quoted
			case ',':
				if !quoted {
					out = appendDirective(out, line[start:i])
					start = i + 1
				}
			}
		}
		out = appendDirective(out, line[start:])
	}
	return out
}

func appendDirective(out []string, d string) []string {
	if d = textproto.TrimString(d); d != "" {
		out = append(out, d)
	}
	return out
}

// ageSeconds parses an Age field value; an invalid value counts as 0.
func ageSeconds(v string) time.Duration {
	n, err := strconv.ParseInt(textproto.TrimString(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, maxDeltaSeconds)) * time.Second
}

func validDate(v string) bool {
	_, err := http.ParseTime(v)
	return err == nil
}

// varyFields returns the request header values the response varies on, or
// nil when it varies on nothing or on "*".
func varyFields(h, reqHeader http.Header) []VaryField {
	var out []VaryField
	for _, name := range listElements(h.Values("Vary")) {
		if name == "*" {
			return nil
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if slices.ContainsFunc(out, func(f VaryField) bool { return f.Name == name }) {
			continue
		}
		out = append(out, VaryField{Name: name, Value: NormalizeFieldValues(reqHeader.Values(name))})
	}
	slices.SortFunc(out, func(a, b VaryField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func hasVaryStar(h http.Header) bool {
	return slices.Contains(listElements(h.Values("Vary")), "*")
}

// listElements splits comma-separated field lines into trimmed, non-empty elements.
func listElements(lines []string) []string {
	var out []string
	for _, line := range lines {
		for _, e := range strings.Split(line, ",") {
			if e = textproto.TrimString(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// NormalizeFieldValues returns the form in which Vary compares request
// header values: the list elements of all field lines, trimmed of
// whitespace, joined by ",". "gzip,  br" and two lines "gzip" and "br"
// both give "gzip,br". Caches that derive variant keys use it.
func NormalizeFieldValues(lines []string) string {
	return strings.Join(listElements(lines), ",")
}
