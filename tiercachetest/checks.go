package tiercachetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

func fresh() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

func testMiss(t *testing.T, m tiercache.Manager, _ Options) {
	resp, pol, err := m.Get(context.Background(), "absent")
	if resp != nil || pol != nil || err != nil {
		t.Fatalf("Get(absent) = %v, %v, %v; want nil, nil, nil (a miss is not an error)", resp, pol, err)
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
		t.Fatalf("Put with a policy that allows no retention: %v", err)
	}
	if got, _, err := m.Get(context.Background(), "stale"); err != nil || got != nil {
		t.Fatalf("after a Put whose policy allows no retention, Get = %s, %v; want a miss "+
			"(the Put must remove the older value and store nothing)", summary(got), err)
	}
}

// testRetention watches an entry with a short retention: served within it,
// a miss once it (and the grace) has passed. It waits in real time.
func testRetention(t *testing.T, m tiercache.Manager, opt Options) {
	start := time.Now()
	pol := tiercache.NewTTLPolicy(opt.Retention, tiercache.WithNow(start))
	want := Response("short-lived", opt.BodySize)
	MustPut(t, m, "short-lived", want, pol)
	MustPut(t, m, "long-lived", Response("long-lived", 10), fresh())
	if time.Since(start) < opt.Retention/2 { // else the machine is too slow to tell
		MustGet(t, m, "short-lived", want)
	}
	time.Sleep(time.Until(start.Add(pol.KeepFor(start) + opt.ExpiryGrace)))
	got, _, err := m.Get(context.Background(), "short-lived")
	if err != nil || got != nil {
		t.Fatalf("Get %v after a Put whose policy allows %v of retention = %s, %v; want a miss",
			time.Since(start).Round(time.Millisecond), opt.Retention, summary(got), err)
	}
	MustGet(t, m, "long-lived", Response("long-lived", 10))
}

func testOddKeys(t *testing.T, m tiercache.Manager, opt Options) {
	keys := []string{
		"with space", "new\nline", "tab\tkey", "ünïcödé/日本", "../../etc/passwd", "nul\x00byte",
		"GET https://example.com/a?b=c#d", strings.Repeat("k", min(251, opt.MaxKeyLen)), strings.Repeat("x", opt.MaxKeyLen),
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

// nearKeys returns pairs of distinct keys that careless key handling
// merges: truncation, case folding, escaping or replacing bytes, trimming,
// path cleaning, C strings, Unicode normalisation.
func nearKeys(maxLen int) [][2]string {
	long := strings.Repeat("p", max(maxLen-1, 1))
	pairs := [][2]string{
		{"Key", "key"},
		{"a b", "a_b"},
		{"a\nb", "a_b"},
		{"a b", "a%20b"},
		{"a/b", "a%2Fb"},
		{"k", "k "},
		{"k", "k\x00"},
		{"nul\x00a", "nul\x00b"},
		{"a/../b", "b"},
		{"a//b", "a/b"},
		{"\u00e9", "e\u0301"},
		{"\xff", "\xfe"},
		{long[:len(long)/2] + "a", long[:len(long)/2] + "b"},
	}
	if maxLen > 1 {
		pairs = append(pairs, [2]string{long + "a", long + "b"})
	}
	return pairs
}

// testNearKeys stores each pair of near keys and reads both back: a
// Manager that merges them serves one key's value under the other.
func testNearKeys(t *testing.T, m tiercache.Manager, opt Options) {
	ctx := context.Background()
	for i, p := range nearKeys(opt.MaxKeyLen) {
		a, b := Response(fmt.Sprintf("near%da", i), 64), Response(fmt.Sprintf("near%db", i), 64)
		MustPut(t, m, p[0], a, fresh())
		MustPut(t, m, p[1], b, fresh())
		MustGet(t, m, p[0], a)
		MustGet(t, m, p[1], b)
		if err := m.Delete(ctx, p[1]); err != nil {
			t.Fatalf("Delete(%.80q): %v", p[1], err)
		}
		MustGet(t, m, p[0], a) // deleting one key must not delete the other
		if err := m.Delete(ctx, p[0]); err != nil {
			t.Fatalf("Delete(%.80q): %v", p[0], err)
		}
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
		wg.Go(func() {
			defer func() { // a panic fails the test instead of crashing the binary
				if v := recover(); v != nil {
					errs <- fmt.Errorf("goroutine %d panicked: %v", g, v)
				}
			}()
			errs <- concurrentClient(ctx, m, g, opt)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// concurrentClient is one goroutine of testConcurrent.
func concurrentClient(ctx context.Context, m tiercache.Manager, g int, opt Options) error {
	for i := range 50 {
		key := fmt.Sprintf("c%d-%d", g, i%5)
		want := Response(key, opt.BodySize/4)
		if _, err := m.Put(ctx, key, want, fresh()); err != nil {
			return err
		}
		got, _, err := m.Get(ctx, key)
		if err != nil || (got != nil && !Equal(got, want)) {
			return fmt.Errorf("Get(%q) = %s, %v", key, summary(got), err)
		}
		if i%7 == 0 {
			if err := m.Delete(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}
