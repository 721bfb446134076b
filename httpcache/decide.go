package httpcache

import (
	"net/http"
	"time"
)

// action is what to do with a stored response selected for a request.
type action uint8

const (
	actFresh           action = iota // serve it: fresh and acceptable
	actStale                         // serve it stale: allowed by the client or the mode
	actStaleRevalidate               // serve it stale and revalidate in the background
	actValidate                      // validate it with the origin first
	actForward                       // forward the request as it is (a range the cache cannot serve)
)

// decide chooses how the stored response e may satisfy the request
// (RFC 9111 §4, §4.2.4, §5.2.1, RFC 5861). fwd names why it must be
// forwarded (Cache-Status fwd=) when the action is actValidate.
func (c *call) decide(e *entry) (action, string) {
	if c.mode.servesStale() {
		return actStale, ""
	}
	if c.mode == ModeNoCache || c.dirs.NoCache {
		return actValidate, fwdRequest
	}
	pol, now := e.pol, c.now
	if pol.NoCache() {
		return actValidate, fwdStale
	}
	if c.dirs.HasMaxAge && pol.Age(now).Truncate(time.Second) > c.dirs.MaxAge {
		return actValidate, fwdRequest
	}
	ttl := pol.TTL(now)
	if ttl > 0 {
		if c.dirs.HasMinFresh && ttl < c.dirs.MinFresh {
			return actValidate, fwdRequest
		}
		return actFresh, ""
	}
	if pol.MustRevalidate() {
		return actValidate, fwdStale
	}
	stale := -ttl
	if c.dirs.HasMaxStale && stale <= c.dirs.MaxStale {
		return actStale, ""
	}
	// A request max-age (without max-stale) or min-fresh asks for a fresh
	// response (RFC 9111 §5.2.1.1, §5.2.1.3): no stale-while-revalidate.
	if stale < pol.StaleWhileRevalidate() && !c.dirs.HasMinFresh && !c.dirs.HasMaxAge {
		return actStaleRevalidate, ""
	}
	return actValidate, fwdStale
}

// staleIfError reports whether e may be served because the origin failed:
// within the response's stale-if-error window (RFC 5861 §4) or the
// request's (RFC 5861 §4 allows it in requests too, for that request). Never
// for must-revalidate or no-cache responses (RFC 9111 §4.2.4) or when the
// request asked for no-cache. A request window cannot bring back what a tier
// no longer keeps: retention follows the response's KeepFor.
func (c *call) staleIfError(e *entry, now time.Time) bool {
	pol := e.pol
	if pol.MustRevalidate() || pol.NoCache() || c.dirs.NoCache {
		return false
	}
	stale := -pol.TTL(now)
	if sie := pol.StaleIfError(); sie > 0 && stale < sie {
		return true
	}
	return c.dirs.HasStaleIfError && stale <= c.dirs.StaleIfError
}

// isServerError reports a status that allows stale-if-error (RFC 5861 §4).
func isServerError(code int) bool { return code >= http.StatusInternalServerError }
