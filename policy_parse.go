package tiercache

import (
	"math"
	"net/http"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// Which parts of the policy are ours and which are cachecontrol's.
//
// Parsing is ours (internal/httpfield, shared with httpcache and
// Compress): cachecontrol v0.2.0 reads only the first Cache-Control line,
// fails the whole field on one malformed directive (a bare
// stale-while-revalidate, max-age=abc), and knows neither must-understand
// nor the Age list rule. The parsed directives are handed to cachecontrol
// in its own structs, and cachecontrol decides what it gets right: the
// reasons a response may not be stored (CachableObject, see
// storableReason) and the explicit freshness lifetime from s-maxage,
// max-age and Expires (ExpirationObject, see freshnessLifetime). Ours on
// top: Age and the request delay (§4.2.3), an invalid Expires (§5.3),
// the heuristic (options, 308), no-cache, Vary, must-understand, and the
// corrections of its reasons (Authorization in a private cache, 308).

// responseDirectives are the cache directives of a response.
type responseDirectives struct {
	cacheobject.ResponseCacheDirectives
	mustUnderstand bool
}

// parseResponseDirectives reads every Cache-Control line directive by
// directive: a malformed argument drops its directive alone, while a
// restrictive directive with a stray argument (no-store=1) still
// restricts. The first occurrence of a repeated directive wins (RFC 9111
// §4.2.1). Qualified no-cache and private count as unqualified (allowed
// by §5.2.2.4 and §5.2.2.7).
func parseResponseDirectives(lines []string) *responseDirectives {
	rd := &responseDirectives{}
	rd.MaxAge, rd.SMaxAge, rd.StaleIfError, rd.StaleWhileRevalidate = -1, -1, -1, -1
	for d := range httpfield.Directives(lines) {
		switch d.Name {
		case "no-store":
			rd.NoStore = true
		case "no-cache":
			rd.NoCachePresent = true
		case "private":
			rd.PrivatePresent = true
		case "public":
			rd.Public = true
		case "must-revalidate":
			rd.MustRevalidate = true
		case "proxy-revalidate":
			rd.ProxyRevalidate = true
		case "immutable":
			rd.Immutable = true
		case "no-transform":
			rd.NoTransform = true
		case "must-understand":
			rd.mustUnderstand = true
		case "max-age":
			firstDelta(&rd.MaxAge, d)
		case "s-maxage":
			firstDelta(&rd.SMaxAge, d)
		case "stale-if-error":
			firstDelta(&rd.StaleIfError, d)
		case "stale-while-revalidate":
			firstDelta(&rd.StaleWhileRevalidate, d)
		}
	}
	return rd
}

// parseRequestDirectives is parseResponseDirectives for request directives.
// A max-stale without an argument accepts any staleness; one with a
// malformed argument is dropped (it would otherwise widen what is accepted).
func parseRequestDirectives(lines []string) cacheobject.RequestCacheDirectives {
	rd := cacheobject.RequestCacheDirectives{MaxAge: -1, MaxStale: -1, MinFresh: -1, StaleIfError: -1}
	for d := range httpfield.Directives(lines) {
		switch d.Name {
		case "no-store":
			rd.NoStore = true
		case "no-cache":
			rd.NoCache = true
		case "only-if-cached":
			rd.OnlyIfCached = true
		case "no-transform":
			rd.NoTransform = true
		case "max-age":
			firstDelta(&rd.MaxAge, d)
		case "min-fresh":
			firstDelta(&rd.MinFresh, d)
		case "stale-if-error":
			firstDelta(&rd.StaleIfError, d)
		case "max-stale":
			if rd.MaxStaleSet {
				continue
			}
			if !d.HasValue {
				rd.MaxStaleSet = true
			} else if firstDelta(&rd.MaxStale, d); rd.MaxStale != -1 {
				rd.MaxStaleSet = true
			}
		}
	}
	return rd
}

// firstDelta sets *dst from d's delta-seconds argument unless *dst is set
// already or the argument is missing or malformed. Values beyond an int32
// saturate (RFC 9111 §1.2.2).
func firstDelta(dst *cacheobject.DeltaSeconds, d httpfield.Directive) {
	if *dst != -1 {
		return
	}
	if n, ok := httpfield.DeltaSeconds(d.Value); ok {
		*dst = cacheobject.DeltaSeconds(min(n, math.MaxInt32))
	}
}

// ageSeconds reads the Age field: the first member of its list (RFC 9111
// §5.1, so "7200, 0" is 7200); an invalid value counts as 0.
func ageSeconds(lines []string) time.Duration {
	n, ok := httpfield.DeltaSeconds(httpfield.First(lines))
	if !ok {
		return 0
	}
	return time.Duration(min(n, maxDeltaSeconds)) * time.Second
}

func validDate(v string) bool {
	_, err := http.ParseTime(v)
	return err == nil
}

// varyFields returns the request header values the response varies on,
// and whether it varies on "*".
func varyFields(h, reqHeader http.Header) ([]VaryField, bool) {
	names, star := httpfield.FieldNames(h["Vary"])
	if star || len(names) == 0 {
		return nil, star
	}
	out := make([]VaryField, len(names))
	for i, name := range names {
		out[i] = VaryField{Name: name, Value: httpfield.Normalize(reqHeader.Values(name))}
	}
	return out, false
}
