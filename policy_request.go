package tiercache

import (
	"net/http"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// RequestDirectives are the cache directives of a request (RFC 9111 §5.2.1),
// parsed with the same per-directive degradation as NewPolicy: every
// Cache-Control line counts, a malformed directive is dropped on its own.
type RequestDirectives struct {
	MaxAge       time.Duration // max-age; valid when HasMaxAge
	MaxStale     time.Duration // max-stale; a bare max-stale accepts any staleness (DefaultMaxTTL)
	MinFresh     time.Duration // min-fresh; valid when HasMinFresh
	StaleIfError time.Duration // stale-if-error (RFC 5861 §4): accepted staleness when the origin fails

	HasMaxAge       bool // max-age is present
	HasMaxStale     bool // max-stale is present
	HasMinFresh     bool // min-fresh is present
	HasStaleIfError bool // stale-if-error is present
	NoCache         bool // no-cache, or Pragma: no-cache without Cache-Control (§5.4)
	NoStore         bool // no-store
	OnlyIfCached    bool // only-if-cached
}

// ParseRequestDirectives parses the Cache-Control (and Pragma) fields of a
// request header. h may be nil. It does not allocate unless a directive
// name has upper-case letters or an argument has escapes.
func ParseRequestDirectives(h http.Header) RequestDirectives {
	lines := h["Cache-Control"]
	d := parseRequestDirectives(lines)
	out := RequestDirectives{NoCache: d.NoCache, NoStore: d.NoStore, OnlyIfCached: d.OnlyIfCached}
	out.MaxAge, out.HasMaxAge = deltaDuration(d.MaxAge)
	out.MinFresh, out.HasMinFresh = deltaDuration(d.MinFresh)
	out.StaleIfError, out.HasStaleIfError = deltaDuration(d.StaleIfError)
	if d.MaxStaleSet {
		out.HasMaxStale = true
		out.MaxStale = DefaultMaxTTL
		if d.MaxStale != -1 {
			out.MaxStale = time.Duration(d.MaxStale) * time.Second
		}
	}
	if len(lines) == 0 && httpfield.HasToken(h["Pragma"], "no-cache") {
		out.NoCache = true
	}
	return out
}

func deltaDuration(d cacheobject.DeltaSeconds) (time.Duration, bool) {
	if d == -1 {
		return 0, false
	}
	return time.Duration(d) * time.Second, true
}
