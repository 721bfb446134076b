// Package tiercache composes HTTP-response cache managers.
//
// One small contract, [Manager], is implemented by storage backends (an
// in-process LRU, memcached, disk) and by decorators that wrap a Manager and
// return a Manager (compression, per-tier guards, layered stacks). A Manager
// stores a [Response] together with the [Policy] that decides how long it may
// be kept and reused (RFC 9111).
//
// Values returned by Get are shared with the cache: treat the *Response and
// *Policy as read-only. Call [Response.Clone] before changing a response.
//
// # Stats
//
// One reading model holds across the module. Every component that counts
// (Layered, Compress, codec.Manager, the backends, the tier decorators, the
// httpcache Transport) has a Stats method returning a plain struct, a
// snapshot taken without stopping traffic, whose fields follow three rules:
//
//   - counters are uint64 and only grow from the component's creation
//     (Hits, Misses, Errors, Evictions, Expired, Corrupt, Panics, Timeouts,
//     Losses, Recoveries, ...);
//   - gauges are int64 and go up and down (Entries, Bytes, MaxBytes,
//     Pending, a State, the number of subscriptions Up, ...);
//   - durations are time.Duration, and a latency distribution is a
//     [LatencyStats].
//
// The same idea has the same field name in every package. Reading a
// snapshot costs atomic loads and at most a short lock, cheap enough for a
// scrape every second under load; nothing is counted on a hot path for the
// sake of the stats alone.
//
// Exporters need not know each type: every component that counts also
// implements [MetricSource], describing its snapshot as named values
// ([Metric]); a decorator has an Unwrap method returning the Manager it
// wraps; and a Layered describes each of its tiers. So [ReadMetrics] reads a
// whole stack: the Layered's per-tier counters and, under the labels tier
// and name, every component of every tier (LRU evictions, disk bytes,
// memcached servers, breaker state, compression bytes, ...). The package
// contrib/expvar and the modules contrib/prometheus and contrib/otel export
// what ReadMetrics reads, at scrape time.
package tiercache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tiercache/tiercache/internal/keyfmt"
)

// Manager stores responses and their caching policy under string keys.
//
// Implementations are safe for concurrent use. The contract mirrors the
// CacheManager of the Rust http-cache crate.
type Manager interface {
	// Get returns the response and policy stored under key.
	// It returns (nil, nil, nil) on a miss. A non-nil error means the tier
	// failed (a dead server, a broken disk), not that the key is absent.
	// The returned values are shared and must be treated as read-only.
	Get(ctx context.Context, key string) (*Response, *Policy, error)
	// Put stores resp under key with the retention pol allows and returns resp.
	// A response whose policy allows no retention (KeepFor <= 0) is not
	// stored, and any older value under key is removed.
	Put(ctx context.Context, key string, resp *Response, pol *Policy) (*Response, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Store is the byte-level contract of remote and persistent backends
// (memcached, disk). The codec package adapts a Store and a codec.Codec into a
// Manager.
type Store interface {
	// Get returns the bytes stored under key, or (nil, nil) on a miss.
	// The caller owns the returned slice.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (> 0). The Store may keep value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Response is a stored HTTP response. Field values returned by a Manager are
// shared: do not modify them, Clone first.
type Response struct {
	Status int         // HTTP status code, e.g. 200
	Header http.Header // response header fields
	Body   []byte      // the complete, decoded-by-transport body
	URL    string      // the effective request URL, if known
}

// Sentinel errors. Errors returned by tiercache packages wrap one of these
// when the caller may want to branch on the outcome; match with errors.Is.
var (
	// ErrCorrupt reports stored bytes that fail a checksum, a length or a
	// format check. The entry is unusable; nothing is returned from it.
	ErrCorrupt = errors.New("tiercache: corrupt entry")
	// ErrVersion reports an encoded entry of an unknown format version.
	ErrVersion = errors.New("tiercache: unsupported format version")
	// ErrTooLarge reports a value or an encoding above a configured limit.
	ErrTooLarge = errors.New("tiercache: value too large")
	// ErrClosed reports a call on a closed Manager.
	ErrClosed = errors.New("tiercache: manager closed")
	// ErrInvalid reports an invalid argument, such as a nil response or policy.
	ErrInvalid = errors.New("tiercache: invalid argument")
	// ErrPanic reports a panic recovered in a goroutine the module started
	// (a promotion or write-back worker, a background revalidation). The
	// error names the component and carries the panic value; it reaches the
	// component's error hook and the goroutine keeps running.
	ErrPanic = errors.New("tiercache: recovered panic")
)

// headerEntryOverhead approximates the memory a header field costs beyond its
// bytes: the map slot and the string and slice headers.
const headerEntryOverhead = 64

// responseOverhead approximates the fixed memory of a Response and its header map.
const responseOverhead = 128

// Size returns an estimate of the memory r holds in bytes: body, URL, header
// names and values plus a fixed per-field overhead. Backends bound by bytes use
// it. It costs one pass over the header map and does not allocate.
func (r *Response) Size() int {
	if r == nil {
		return 0
	}
	n := responseOverhead + len(r.Body) + len(r.URL)
	for k, vs := range r.Header {
		n += headerEntryOverhead + len(k)
		for _, v := range vs {
			n += 16 + len(v)
		}
	}
	return n
}

// Clone returns a deep copy of r that the caller may modify freely.
func (r *Response) Clone() *Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Header = r.Header.Clone()
	if r.Body != nil {
		c.Body = append([]byte(nil), r.Body...)
	}
	return &c
}

// CheckPut validates the arguments of a Put: it returns an error wrapping
// ErrInvalid when key is empty or resp or pol is nil. Managers call it first.
func CheckPut(key string, resp *Response, pol *Policy) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case resp == nil:
		return fmt.Errorf("%w: nil response for key %s", ErrInvalid, keyfmt.Quote(key))
	case pol == nil:
		return fmt.Errorf("%w: nil policy for key %s", ErrInvalid, keyfmt.Quote(key))
	}
	return nil
}
