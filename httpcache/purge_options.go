package httpcache

import (
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
)

// Purge defaults and bounds.
const (
	// DefaultPurgeMaxAge is how long a process trusts its copy of a tag's
	// generation before reading it again (WithPurgeMaxAge): the bound on
	// how long another process may serve an entry after a purge.
	DefaultPurgeMaxAge = time.Second
	// MinPurgeMaxAge and MaxPurgeMaxAge bound WithPurgeMaxAge.
	MinPurgeMaxAge = time.Millisecond
	MaxPurgeMaxAge = time.Hour
	// MaxTags is the most tags a response may carry and still be stored:
	// a response with more is not stored (Stats.Refusals.Tags), since a
	// tag left out could not purge it.
	MaxTags = 64
	// MaxTagLength is the longest tag read, in bytes (Fastly's limit); a
	// response with a longer one is not stored either.
	MaxTagLength = 1024
)

// DefaultTagHeaders returns the response header fields read for tags when
// WithTagHeaders is not given: Surrogate-Key (Fastly, Varnish xkey; space
// separated) and Cache-Tag (Cloudflare; comma separated).
func DefaultTagHeaders() []string { return []string{"Surrogate-Key", "Cache-Tag"} }

// WithPurge turns on purging by tag and by URL across processes (default
// off): each stored response records the current generation of each of its
// tags and of its URL's bucket, and a lookup serves it only while those
// generations are still current (the package documentation, "Purging",
// states the guarantee and the costs). Without it, PurgeTag fails with ErrPurgeDisabled and PurgeURL only
// deletes the URL's entries through the Manager.
func WithPurge(on bool) Option { return func(o *options) { o.purge = on } }

// WithTagHeaders sets the response header fields read for tags (default
// DefaultTagHeaders). Values are split at commas and white space. No names
// means no tags (purging by URL still works).
func WithTagHeaders(names ...string) Option {
	return func(o *options) {
		o.tagHeaders = make([]string, 0, len(names))
		for _, n := range names {
			if n != "" {
				o.tagHeaders = append(o.tagHeaders, http.CanonicalHeaderKey(n))
			}
		}
	}
}

// WithKeepTagHeaders keeps the tag header fields in the responses returned
// to callers and clients. By default (with WithPurge) they are removed, as
// CDNs do; they are always kept in what is stored.
func WithKeepTagHeaders(keep bool) Option { return func(o *options) { o.keepTags = keep } }

// WithPurgeStore sets the Manager holding the tag generations (default:
// the authority of a *tiercache.Layered, that is its last tier, else the
// cache's Manager itself). Every process that shares entries must read the
// generations from a store they all share and never from a private tier:
// give the shared tier here when the cache's Manager wraps a Layered in
// something else.
func WithPurgeStore(m tiercache.Manager) Option { return func(o *options) { o.purgeStore = m } }

// WithPurgeMaxAge sets how long a process uses its copy of a generation
// before reading it again (default DefaultPurgeMaxAge, clamped to
// [MinPurgeMaxAge, MaxPurgeMaxAge]). It bounds how long after PurgeTag or
// PurgeURL returned another process may still serve a purged entry, and
// costs one read of the purge store per tag per max age while the tag is
// in use.
func WithPurgeMaxAge(d time.Duration) Option {
	return func(o *options) { o.purgeMaxAge = min(max(d, MinPurgeMaxAge), MaxPurgeMaxAge) }
}

// WithBus publishes each purge on an invalidation bus shared with the other
// processes (kind BusKindPurge) and applies theirs as they arrive, so that a
// purge usually reaches them within the bus latency instead of
// WithPurgeMaxAge. Lost messages are harmless: the max age still bounds the
// delay. The subscription is made by New and closed by Close. nil means
// none; without WithPurge it has no effect.
func WithBus(b tiercache.Bus) Option { return func(o *options) { o.bus = b } }
