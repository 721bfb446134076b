package tiercache_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/testlog"
	"github.com/tiercache/tiercache/tiercachetest"
)

// wantLines fails unless the lines logged are as many as want and each
// contains its fragments.
func wantLines(t *testing.T, got []string, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, frags := range want {
		for _, f := range frags {
			if !strings.Contains(got[i], f) {
				t.Errorf("line %d = %q\nlacks %q", i, got[i], f)
			}
		}
	}
}

// TestLayeredLogsTierErrorsRateLimited: a tier that fails every call logs
// one warning per interval, per tier.
func TestLayeredLogsTierErrorsRateLimited(t *testing.T) {
	var sink testlog.Buffer
	l, fakes, _ := newFakeStack(t, 3, tiercache.WithTierNames("lru", "memcached", "disk"),
		tiercache.WithLogger(sink.Logger()), tiercache.WithLogEvery(time.Hour))
	fakes[1].setErrors(errTierBoom, nil, nil)
	for range 100 {
		tiercachetest.MustGet(t, l, "k", nil) // fail-open: a miss
	}
	fakes[2].setErrors(nil, nil, errTierBoom)
	if err := l.Delete(lctx, "k"); !errors.Is(err, errTierBoom) {
		t.Fatalf("Delete = %v", err)
	}
	if st := l.Stats(); st.Tiers[1].Errors != 100 {
		t.Fatalf("tier 1 errors = %d, want 100", st.Tiers[1].Errors)
	}
	wantLines(t, sink.Lines(), [][]string{
		{"level=WARN", `msg="tiercache: tier failed"`, "tier=1", "name=memcached", "op=get", `key="\"k\""`, "error=boom"},
		{"level=WARN", `msg="tiercache: tier failed"`, "tier=2", "name=disk", "op=delete", "error=boom"},
	})
}

// TestLayeredLogsPanics: a panic recovered on the promotion worker is logged
// with its stack, and a panic of the error hook, which cannot report itself,
// is logged too.
func TestLayeredLogsPanics(t *testing.T) {
	var sink testlog.Buffer
	front, back := newTierFake(0, nil), newTierFake(1, nil)
	front.onPut = func(string) { panic("front is broken") }
	l := tiercache.NewLayered([]tiercache.Manager{front, back}, tiercache.WithAsyncPromotion(8),
		tiercache.WithTierNames("front", "back"), tiercache.WithLogger(sink.Logger()),
		tiercache.WithErrorHook(func(int, string, string, error) { panic("hook is broken") }))
	back.set("k", tiercachetest.Response("k", 8), hourPolicy())
	tiercachetest.MustGet(t, l, "k", tiercachetest.Response("k", 8)) // queues a promotion
	if err := l.Close(); err != nil {                                // drains it
		t.Fatal(err)
	}
	wantLines(t, sink.Lines(), [][]string{
		{"level=WARN", `msg="tiercache: recovered panic in a tier"`, "tier=0", "name=front", "op=promote",
			"front is broken", "stack=", "goroutine"},
		{"level=WARN", `msg="tiercache: error hook panicked on the promotion worker"`, `panic="hook is broken"`},
	})
}

// TestLayeredLogsBus: losing the bus subscription is a warning, its
// recovery an info message, a failed publish a warning.
func TestLayeredLogsBus(t *testing.T) {
	var sink testlog.Buffer
	bus := &fakeBus{}
	l, _, _ := newFakeStack(t, 2, tiercache.WithBus(bus), tiercache.WithLogger(sink.Logger()))
	waitFor(t, "subscription up", func() bool { return l.BusStats().Up == 1 })
	bus.setDown(true)
	waitFor(t, "subscription down", func() bool { return l.BusStats().Losses == 1 })
	bus.setDown(false)
	waitFor(t, "subscription back", func() bool { return l.BusStats().Recoveries == 1 })
	bus.setPublishErr(errTierBoom)
	tiercachetest.MustPut(t, l, "k", tiercachetest.Response("k", 8), hourPolicy())
	wantLines(t, sink.Lines(), [][]string{
		{"level=WARN", `msg="tiercache: invalidation bus subscription lost"`, "op=subscribe", "fake bus: connection lost"},
		{"level=INFO", `msg="tiercache: invalidation bus subscription restored"`},
		{"level=WARN", `msg="tiercache: invalidation bus publish failed"`, "op=publish", "error=boom", `key="\"k\""`},
	})
}
