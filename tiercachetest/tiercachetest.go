// Package tiercachetest is the conformance suite for implementations of
// tiercache.Manager, in the spirit of testing/fstest: a backend or decorator
// author calls TestManager from a test, and every Manager in the tiercache
// module (backends, decorators and Layered stacks) passes it too.
package tiercachetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
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

// MustGet fails the test unless key holds want.
func MustGet(t testing.TB, m tiercache.Manager, key string, want *tiercache.Response) *tiercache.Policy {
	t.Helper()
	got, pol, err := m.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !Equal(got, want) {
		t.Fatalf("Get(%q) = %+v, want %+v", key, summary(got), summary(want))
	}
	if want != nil && pol == nil {
		t.Fatalf("Get(%q): hit with nil policy", key)
	}
	return pol
}

// MustPut fails the test unless Put succeeds and returns resp.
func MustPut(t testing.TB, m tiercache.Manager, key string, resp *tiercache.Response, pol *tiercache.Policy) {
	t.Helper()
	got, err := m.Put(context.Background(), key, resp, pol)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if got != resp {
		t.Fatalf("Put(%q) returned %p, want the response it was given %p", key, got, resp)
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
}

// Option tunes TestManager for a Manager with limits.
type Option func(*Options)

// WithMaxKeyLen sets the longest key the suite tries (default 4096).
func WithMaxKeyLen(n int) Option { return func(o *Options) { o.MaxKeyLen = n } }

// WithBodySize sets the body size of most entries (default 2048).
func WithBodySize(n int) Option { return func(o *Options) { o.BodySize = n } }

// TestManager runs the conformance suite as subtests of t. newManager
// returns a fresh, empty Manager for each subtest; the suite does not close
// it (register a t.Cleanup in newManager).
func TestManager(t *testing.T, newManager func(t *testing.T) tiercache.Manager, opts ...Option) {
	opt := Options{MaxKeyLen: 4096, BodySize: 2048}
	for _, o := range opts {
		o(&opt)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, m tiercache.Manager, opt Options)
	}{
		{"MissIsNil", testMiss},
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"ExpiredPutRemoves", testExpiredPut},
		{"OddKeys", testOddKeys},
		{"InvalidArguments", testInvalid},
		{"CancelledContext", testCancelled},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newManager(t), opt) })
	}
}

func fresh() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

func testMiss(t *testing.T, m tiercache.Manager, _ Options) {
	resp, pol, err := m.Get(context.Background(), "absent")
	if resp != nil || pol != nil || err != nil {
		t.Fatalf("Get(absent) = %v, %v, %v; want nil, nil, nil", resp, pol, err)
	}
}

func testRoundTrip(t *testing.T, m tiercache.Manager, opt Options) {
	for _, n := range []int{0, 1, opt.BodySize} {
		key := fmt.Sprintf("rt-%d", n)
		want := Response(key, n)
		pol := fresh()
		MustPut(t, m, key, want, pol)
		got := MustGet(t, m, key, want)
		now := time.Now()
		if d := got.TTL(now) - pol.TTL(now); d < -time.Second || d > time.Second {
			t.Fatalf("TTL after round trip differs by %v", d)
		}
	}
}

func testOverwrite(t *testing.T, m tiercache.Manager, opt Options) {
	MustPut(t, m, "k", Response("one", opt.BodySize), fresh())
	want := Response("two", opt.BodySize/2)
	MustPut(t, m, "k", want, fresh())
	MustGet(t, m, "k", want)
}

func testDelete(t *testing.T, m tiercache.Manager, opt Options) {
	ctx := context.Background()
	MustPut(t, m, "gone", Response("gone", opt.BodySize), fresh())
	if err := m.Delete(ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	MustGet(t, m, "gone", nil)
	if err := m.Delete(ctx, "never-stored"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testExpiredPut(t *testing.T, m tiercache.Manager, opt Options) {
	MustPut(t, m, "stale", Response("old", opt.BodySize), fresh())
	expired := tiercache.NewTTLPolicy(time.Hour, tiercache.WithNow(time.Now().Add(-2*time.Hour)))
	resp := Response("new", opt.BodySize)
	if _, err := m.Put(context.Background(), "stale", resp, expired); err != nil {
		t.Fatalf("Put with an expired policy: %v", err)
	}
	MustGet(t, m, "stale", nil)
}

func testOddKeys(t *testing.T, m tiercache.Manager, opt Options) {
	keys := []string{
		"with space", "new\nline", "tab\tkey", "ünïcödé/日本", "../../etc/passwd", "nul\x00byte",
		"GET https://example.com/a?b=c#d", strings.Repeat("k", 251), strings.Repeat("x", opt.MaxKeyLen),
	}
	for i, key := range keys {
		want := Response(fmt.Sprintf("odd%d", i), 100)
		MustPut(t, m, key, want, fresh())
		MustGet(t, m, key, want)
	}
	// Distinct keys stay distinct (hashing must not merge them).
	for i, key := range keys {
		MustGet(t, m, key, Response(fmt.Sprintf("odd%d", i), 100))
	}
}

func testInvalid(t *testing.T, m tiercache.Manager, _ Options) {
	ctx := context.Background()
	cases := []struct {
		key  string
		resp *tiercache.Response
		pol  *tiercache.Policy
	}{
		{"", Response("a", 10), fresh()},
		{"k", nil, fresh()},
		{"k", Response("a", 10), nil},
	}
	for _, c := range cases {
		if _, err := m.Put(ctx, c.key, c.resp, c.pol); !errors.Is(err, tiercache.ErrInvalid) {
			t.Errorf("Put(%q, %v, %v) error = %v, want ErrInvalid", c.key, c.resp != nil, c.pol != nil, err)
		}
	}
}

func testCancelled(t *testing.T, m tiercache.Manager, opt Options) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Any answer is acceptable but a panic, a hang or a wrong hit.
	_, _ = m.Put(ctx, "c", Response("c", opt.BodySize), fresh())
	if resp, _, err := m.Get(ctx, "c"); err == nil && resp != nil && !Equal(resp, Response("c", opt.BodySize)) {
		t.Fatalf("Get with a cancelled context returned wrong data")
	}
	_ = m.Delete(ctx, "c")
}

func testConcurrent(t *testing.T, m tiercache.Manager, opt Options) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				key := fmt.Sprintf("c%d-%d", g, i%5)
				want := Response(key, opt.BodySize/4)
				if _, err := m.Put(ctx, key, want, fresh()); err != nil {
					errs <- err
					return
				}
				got, _, err := m.Get(ctx, key)
				if err != nil || (got != nil && !Equal(got, want)) {
					errs <- fmt.Errorf("Get(%q) = %s, %v", key, summary(got), err)
					return
				}
				if i%7 == 0 {
					if err := m.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
