// Package tiercachetest implements support for testing implementations of
// tiercache.Manager, as testing/fstest does for file systems.
//
// TestManager runs the conformance suite: what every Manager in the
// tiercache module (backends, decorators, Layered stacks) passes, and what a
// third-party backend or decorator must pass to be used as a tier. It needs
// no access to the Manager beyond the interface and runs in real time: call
// it from a test with a function that returns a fresh, empty Manager.
//
//	func TestConformance(t *testing.T) {
//		tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
//			m, err := mybackend.New(mybackend.Config{...})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { m.Close() })
//			return m
//		})
//	}
//
// The suite checks, each as a subtest:
//
//   - MissIsNil: Get of an absent key returns (nil, nil, nil), not an error.
//   - RoundTrip: status, header, body (0, 1 and WithBodySize bytes) and URL
//     come back exactly, with a policy whose TTL matches; Put returns the
//     *Response it was given.
//   - Overwrite, Delete: a Put replaces the value; a Delete removes it, and
//     deleting an absent key is not an error.
//   - ExpiredPutRemoves: a Put whose policy allows no retention (KeepFor <=
//     0) stores nothing and removes the older value.
//   - Retention: an entry is served within its retention and not after it
//     (KeepFor plus WithExpiryGrace), in real time; this subtest runs in
//     parallel with the others and costs about WithRetention plus the grace
//     of wall time (1.5 s by default). Callers that run the suite on several
//     Managers save that time by calling t.Parallel in each t.Run.
//   - OddKeys, NearKeys: keys with spaces, control bytes, NUL, "../",
//     Unicode, up to WithMaxKeyLen bytes, and pairs of keys that a careless
//     hash, truncation, case folding or escaping would merge, stay distinct.
//   - InvalidArguments: an empty key, a nil response or a nil policy give an
//     error wrapping tiercache.ErrInvalid.
//   - CancelledContext: a cancelled context gives an error or a correct
//     answer, never a wrong value, a panic or a hang.
//   - Concurrent: Put, Get and Delete from 8 goroutines, race-free under
//     go test -race, never serve another key's value.
//
// A Manager may evict entries (it is a cache), but not between a Put and
// the Get that follows it in a subtest that holds only a few entries.
package tiercachetest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// Response returns a response with a body of n bytes derived from seed.
func Response(seed string, n int) *tiercache.Response {
	body := bytes.Repeat([]byte(seed+" "), n/(len(seed)+1)+1)[:n]
	return &tiercache.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain"}, "X-Seed": {seed}},
		Body:   body,
		URL:    "https://example.com/" + seed,
	}
}

// Equal reports whether two responses carry the same status, URL, headers and body.
func Equal(a, b *tiercache.Response) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Status != b.Status || a.URL != b.URL || !bytes.Equal(a.Body, b.Body) || len(a.Header) != len(b.Header) {
		return false
	}
	for k, vs := range a.Header {
		if strings.Join(vs, "\x00") != strings.Join(b.Header[k], "\x00") {
			return false
		}
	}
	return true
}

// MustGet fails the test unless key holds want (nil: a miss) and Get
// returns no error; it returns the policy of a hit.
func MustGet(t testing.TB, m tiercache.Manager, key string, want *tiercache.Response) *tiercache.Policy {
	t.Helper()
	got, pol, err := m.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%.80q): %v", key, err)
	}
	if !Equal(got, want) {
		t.Fatalf("Get(%.80q) = %+v, want %+v", key, summary(got), summary(want))
	}
	if want != nil && pol == nil {
		t.Fatalf("Get(%.80q): hit with nil policy", key)
	}
	if want == nil && pol != nil {
		t.Fatalf("Get(%.80q): miss with a non-nil policy", key)
	}
	return pol
}

// MustPut fails the test unless Put succeeds and returns resp.
func MustPut(t testing.TB, m tiercache.Manager, key string, resp *tiercache.Response, pol *tiercache.Policy) {
	t.Helper()
	got, err := m.Put(context.Background(), key, resp, pol)
	if err != nil {
		t.Fatalf("Put(%.80q): %v", key, err)
	}
	if got != resp {
		t.Fatalf("Put(%.80q) returned %p, want the response it was given %p", key, got, resp)
	}
}

func summary(r *tiercache.Response) string {
	if r == nil {
		return "<miss>"
	}
	return fmt.Sprintf("{%d %s %d bytes %v}", r.Status, r.URL, len(r.Body), r.Header)
}

// Options are the limits TestManager works within; set them with Option
// values.
type Options struct {
	// MaxKeyLen is the longest key to try (default 4096).
	MaxKeyLen int
	// BodySize is the body size of most entries (default 2048).
	BodySize int
	// Retention is the retention (Policy.KeepFor) of the entry the
	// Retention subtest watches expire (default 1 s).
	Retention time.Duration
	// ExpiryGrace is how long after its retention an entry may still be
	// served (default 500 ms), for Managers that expire on a coarse clock.
	ExpiryGrace time.Duration
}

// Option tunes TestManager for a Manager with limits.
type Option func(*Options)

// WithMaxKeyLen sets the longest key the suite tries (default 4096).
func WithMaxKeyLen(n int) Option { return func(o *Options) { o.MaxKeyLen = n } }

// WithBodySize sets the body size of most entries (default 2048).
func WithBodySize(n int) Option { return func(o *Options) { o.BodySize = n } }

// WithRetention sets the retention of the entry the Retention subtest
// watches expire (default 1 s, at least 100 ms).
func WithRetention(d time.Duration) Option {
	return func(o *Options) { o.Retention = max(d, 100*time.Millisecond) }
}

// WithExpiryGrace sets how long past its retention an entry may still be
// served (default 500 ms; 0 is exact). A Manager that relies on an expiry
// with a granularity of seconds (memcached's own, for one) needs about 2 s;
// one that checks Policy.KeepFor on Get, as the tiercache backends do, needs
// none.
func WithExpiryGrace(d time.Duration) Option { return func(o *Options) { o.ExpiryGrace = max(d, 0) } }

// TestManager runs the conformance suite (see the package documentation) as
// subtests of t. newManager returns a fresh, empty Manager for each
// subtest, called with the subtest's t; the suite does not close it
// (register a t.Cleanup in newManager). Some subtests run in parallel
// (t.Parallel), so newManager must be safe to call from several
// goroutines, and Managers it returns must not share keys.
func TestManager(t *testing.T, newManager func(t *testing.T) tiercache.Manager, opts ...Option) {
	t.Helper()
	opt := Options{MaxKeyLen: 4096, BodySize: 2048, Retention: time.Second, ExpiryGrace: 500 * time.Millisecond}
	for _, o := range opts {
		o(&opt)
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			tc.fn(t, newManager(t), opt)
		})
	}
}

// checks are the subtests of TestManager, in order.
var checks = []struct {
	name     string
	fn       func(t *testing.T, m tiercache.Manager, opt Options)
	parallel bool // waits in real time: runs beside the others
}{
	{"MissIsNil", testMiss, false},
	{"RoundTrip", testRoundTrip, false},
	{"Overwrite", testOverwrite, false},
	{"Delete", testDelete, false},
	{"ExpiredPutRemoves", testExpiredPut, false},
	{"Retention", testRetention, true},
	{"OddKeys", testOddKeys, false},
	{"NearKeys", testNearKeys, false},
	{"InvalidArguments", testInvalid, false},
	{"CancelledContext", testCancelled, false},
	{"Concurrent", testConcurrent, false},
}
