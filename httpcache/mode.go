package httpcache

import "net/http"

// Mode selects how the Transport uses the cache for a request. The modes
// follow the CacheMode of the Rust http-cache crate. A Mode is a plain value,
// safe to share.
type Mode uint8

// The cache modes. ModeDefault is the zero value.
const (
	// ModeDefault follows RFC 9111: fresh responses are served from the
	// cache, stale ones are revalidated, and storable responses are stored.
	ModeDefault Mode = iota
	// ModeNoStore behaves as if there were no cache: the cache is neither
	// read nor written (unsafe methods still invalidate).
	ModeNoStore
	// ModeReload ignores the cache on the way to the origin, then stores
	// the response if it is storable.
	ModeReload
	// ModeNoCache revalidates a stored response before every use (a
	// conditional request when it has validators) and stores the result.
	ModeNoCache
	// ModeForceCache serves any stored response, fresh or stale; on a miss
	// it goes to the origin and stores the response.
	ModeForceCache
	// ModeOnlyIfCached serves any stored response, fresh or stale, and
	// answers 504 (Gateway Timeout) on a miss without contacting the origin.
	ModeOnlyIfCached
	// ModeIgnoreRules stores every 200 response to a GET whatever its
	// caching directives say (for the max TTL, see WithMaxTTL) and serves
	// any stored response, fresh or stale.
	ModeIgnoreRules
)

var modeNames = [...]string{"Default", "NoStore", "Reload", "NoCache", "ForceCache", "OnlyIfCached", "IgnoreRules"}

// String returns the mode's name, e.g. "ForceCache".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + itoa(int64(m)) + ")"
}

// readsCache reports whether the mode looks up stored responses.
func (m Mode) readsCache() bool { return m != ModeNoStore && m != ModeReload }

// servesStale reports whether the mode serves stored responses regardless
// of their freshness.
func (m Mode) servesStale() bool {
	return m == ModeForceCache || m == ModeOnlyIfCached || m == ModeIgnoreRules
}

// modeFor returns the mode of req: the mode function's answer, or the
// Transport's mode.
func (t *Transport) modeFor(req *http.Request) Mode {
	if t.opts.modeFunc != nil {
		return t.opts.modeFunc(req)
	}
	return t.opts.mode
}
