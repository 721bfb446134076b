package tiercache_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/tiercachetest"
)

// busPair is two Layered stacks, as in two processes: each over its own
// front, both over one shared authority, connected by one bus.
type busPair struct {
	a, b           *tiercache.Layered
	frontA, frontB *tierFake
	auth           *tierFake
	bus            *fakeBus
	hookB          *tierHookCalls
}

func newBusPair(t *testing.T, opts ...tiercache.LayeredOption) *busPair {
	t.Helper()
	p := &busPair{frontA: newTierFake(0, nil), frontB: newTierFake(0, nil), auth: newTierFake(1, nil),
		bus: &fakeBus{}, hookB: &tierHookCalls{}}
	opts = append([]tiercache.LayeredOption{tiercache.WithBus(p.bus)}, opts...)
	p.a = tiercache.NewLayered([]tiercache.Manager{p.frontA, p.auth}, opts...)
	p.b = tiercache.NewLayered([]tiercache.Manager{p.frontB, p.auth}, append(opts, tiercache.WithErrorHook(p.hookB.hook))...)
	t.Cleanup(func() { _ = p.a.Close(); _ = p.b.Close() })
	waitFor(t, "both subscriptions up", func() bool { return p.a.BusStats().Up == 1 && p.b.BusStats().Up == 1 })
	return p
}

// waitInvalidations waits until b has handled n messages from others.
func waitInvalidations(t *testing.T, l *tiercache.Layered, n uint64) {
	t.Helper()
	waitFor(t, "invalidations", func() bool { return l.BusStats().Invalidations >= n })
}

func TestLayeredBusPutInvalidatesOtherFronts(t *testing.T) {
	p := newBusPair(t)
	v1, v2 := tiercachetest.Response("v1", 64), tiercachetest.Response("v2", 64)
	tiercachetest.MustPut(t, p.a, "k", v1, hourPolicy())
	waitInvalidations(t, p.b, 1)
	tiercachetest.MustGet(t, p.b, "k", v1) // B's front now holds v1 (promoted)
	if p.frontB.entry("k").resp != v1 {
		t.Fatal("B's front does not hold the promoted v1")
	}
	tiercachetest.MustPut(t, p.a, "k", v2, hourPolicy())
	waitInvalidations(t, p.b, 2)
	if e := p.frontB.entry("k"); e.resp != nil {
		t.Fatalf("B's front still holds %s after A's message", e.resp.Header.Get("X-Seed"))
	}
	tiercachetest.MustGet(t, p.b, "k", v2)
	if e := p.frontA.entry("k"); e.resp != v2 {
		t.Fatal("A's own message removed A's front copy")
	}
	if got := p.auth.deletes.Load(); got != 0 {
		t.Fatalf("the authority saw %d deletes; invalidation must never delete there", got)
	}
	if st := p.a.BusStats(); st.Publishes != 2 || st.Echoes != 2 || st.Invalidations != 0 {
		t.Fatalf("A's BusStats = %+v, want 2 publishes, 2 echoes, 0 invalidations", st)
	}
}

func TestLayeredBusDeleteInvalidatesOtherFronts(t *testing.T) {
	p := newBusPair(t)
	v := tiercachetest.Response("v", 64)
	tiercachetest.MustPut(t, p.a, "k", v, hourPolicy())
	tiercachetest.MustGet(t, p.b, "k", v)
	if err := p.a.Delete(lctx, "k"); err != nil {
		t.Fatal(err)
	}
	waitInvalidations(t, p.b, 2)
	tiercachetest.MustGet(t, p.b, "k", nil)
	msgs := p.bus.messages()
	if len(msgs) != 2 || msgs[1].Kind != tiercache.BusKindKey || msgs[1].Key != "k" || msgs[1].Origin == "" {
		t.Fatalf("published %+v, want two key messages for k with an origin", msgs)
	}
}

func TestLayeredBusIgnoresOtherKinds(t *testing.T) {
	p := newBusPair(t)
	v := tiercachetest.Response("v", 64)
	tiercachetest.MustPut(t, p.b, "k", v, hourPolicy())
	if err := p.bus.Publish(lctx, tiercache.BusMessage{Origin: "other", Kind: "tag", Key: "k", Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the tag message", func() bool { return p.b.BusStats().Ignored == 1 })
	if p.frontB.entry("k").resp != v {
		t.Fatal("a message of another kind deleted a key")
	}
}

// TestLayeredBusNoResurrection: a Get in B reads the old value from the
// authority, A's Put and its message complete, then B's read goes on to
// promote: the promotion must be skipped (rule B2 with W1/P1).
func TestLayeredBusNoResurrection(t *testing.T) {
	p := newBusPair(t)
	v1, v2 := tiercachetest.Response("v1", 64), tiercachetest.Response("v2", 64)
	p.auth.set("k", v1, hourPolicy())
	gate := newHoldGate()
	p.auth.onGet = gate.wait
	got := make(chan *tiercache.Response, 1)
	go func() { r, _, _ := p.b.Get(lctx, "k"); got <- r }()
	<-gate.entered // B has read v1 and holds it
	p.auth.onGet = nil
	tiercachetest.MustPut(t, p.a, "k", v2, hourPolicy())
	waitInvalidations(t, p.b, 1)
	close(gate.release)
	<-got // v1: the read started before the Put; what matters is the tier
	if e := p.frontB.entry("k"); e.resp != nil {
		t.Fatalf("B's front holds %s after the invalidation: resurrected", e.resp.Header.Get("X-Seed"))
	}
	tiercachetest.MustGet(t, p.b, "k", v2)
}

func TestLayeredBusDownAndUpReported(t *testing.T) {
	p := newBusPair(t)
	p.bus.setDown(true)
	waitFor(t, "the loss", func() bool { return p.b.BusStats().Losses == 1 })
	if st := p.b.BusStats(); st.Up != 0 {
		t.Fatalf("Up = %d while down", st.Up)
	}
	calls := p.hookB.String()
	if !strings.Contains(calls, "-1 subscribe") || !strings.Contains(calls, tiercache.ErrBusDown.Error()) {
		t.Fatalf("hook calls %q do not report the lost subscription", calls)
	}
	p.bus.setDown(false)
	waitFor(t, "the recovery", func() bool { st := p.b.BusStats(); return st.Recoveries == 1 && st.Up == 1 })
}

func TestLayeredBusPublishErrorDoesNotFailPut(t *testing.T) {
	hook := &tierHookCalls{}
	bus := &fakeBus{}
	l, _, _ := newFakeStack(t, 2, tiercache.WithBus(bus), tiercache.WithErrorHook(hook.hook))
	errPub := errors.New("publish failed")
	bus.setPublishErr(errPub)
	tiercachetest.MustPut(t, l, "k", tiercachetest.Response("v", 10), hourPolicy())
	if err := l.Delete(lctx, "k"); err != nil {
		t.Fatalf("Delete with a failing bus: %v", err)
	}
	if st := l.BusStats(); st.Publishes != 2 || st.PublishErrors != 2 {
		t.Fatalf("BusStats = %+v, want 2 publishes, 2 errors", st)
	}
	if calls := hook.String(); strings.Count(calls, "-1 publish k: publish failed") != 2 {
		t.Fatalf("hook calls %q, want two publish errors for k", calls)
	}
}

func TestLayeredBusTypedNil(t *testing.T) {
	l, _, _ := newFakeStack(t, 2, tiercache.WithBus((*fakeBus)(nil)))
	tiercachetest.MustPut(t, l, "k", tiercachetest.Response("v", 10), hourPolicy())
	if st := l.BusStats(); st != (tiercache.BusStats{}) {
		t.Fatalf("BusStats with a typed-nil bus = %+v, want zero", st)
	}
}

func TestLayeredBusCloseUnsubscribes(t *testing.T) {
	bus := &fakeBus{}
	l, _, _ := newFakeStack(t, 2, tiercache.WithBus(bus))
	_ = l.Close()
	_ = l.Close()
	bus.mu.Lock()
	defer bus.mu.Unlock()
	for _, s := range bus.subs {
		if !s.closed {
			t.Fatal("Close left the subscription open")
		}
	}
}

// panicTier panics on Delete.
type panicTier struct{ *tierFake }

func (panicTier) Delete(context.Context, string) error { panic("delete exploded") }

func TestLayeredBusInvalidationPanicReported(t *testing.T) {
	bus := &fakeBus{}
	hook := &tierHookCalls{}
	auth := newTierFake(1, nil)
	l := tiercache.NewLayered([]tiercache.Manager{panicTier{newTierFake(0, nil)}, auth},
		tiercache.WithBus(bus), tiercache.WithErrorHook(hook.hook))
	t.Cleanup(func() { _ = l.Close() })
	_ = bus.Publish(lctx, tiercache.BusMessage{Origin: "other", Kind: tiercache.BusKindKey, Key: "k"})
	waitFor(t, "the panic report", func() bool { return strings.Contains(hook.String(), tiercache.ErrPanic.Error()) })
	tiercachetest.MustPut(t, auth, "k2", tiercachetest.Response("v", 10), hourPolicy())
	tiercachetest.MustGet(t, l, "k2", tiercachetest.Response("v", 10)) // the stripe lock was released
}

// TestLayeredBusMaxAge: upper-tier copies, from Put and from promotion,
// keep at most the max age, and the authority keeps the full retention;
// a message missed while the bus is down leaves B's stale copy only until
// the max age has passed (on the front's clock).
func TestLayeredBusMaxAge(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().Add(time.Second).UnixNano()) // ahead of the Puts: caps end before start+maxAge+1s
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	newFront := func() *lru.Manager {
		m, err := lru.New(lru.Config{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	const maxAge = time.Minute
	bus, auth := &fakeBus{}, newTierFake(1, nil)
	frontA, frontB := newFront(), newFront()
	a := tiercache.NewLayered([]tiercache.Manager{frontA, auth}, tiercache.WithBus(bus), tiercache.WithBusMaxAge(maxAge))
	b := tiercache.NewLayered([]tiercache.Manager{frontB, auth}, tiercache.WithBus(bus), tiercache.WithBusMaxAge(maxAge))
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	waitFor(t, "subscriptions", func() bool { return a.BusStats().Up == 1 && b.BusStats().Up == 1 })

	v1, v2 := tiercachetest.Response("v1", 64), tiercachetest.Response("v2", 64)
	tiercachetest.MustPut(t, a, "k", v1, hourPolicy())
	waitInvalidations(t, b, 1)
	tiercachetest.MustGet(t, b, "k", v1) // promoted into B's front
	for name, m := range map[string]tiercache.Manager{"A's front (Put)": frontA, "B's front (promotion)": frontB} {
		_, pol, _ := m.Get(lctx, "k")
		if pol == nil || pol.KeepFor(now()) > maxAge || pol.TTL(now()) < 59*time.Minute {
			t.Fatalf("%s: policy keeps %v, TTL %v; want at most %v and the original TTL", name, pol.KeepFor(now()), pol.TTL(now()), maxAge)
		}
	}
	if pol := auth.entry("k").pol; pol.KeepFor(now()) < 59*time.Minute {
		t.Fatalf("the authority's copy keeps %v, want the full hour", pol.KeepFor(now()))
	}

	bus.setDown(true)
	waitFor(t, "the loss", func() bool { return b.BusStats().Losses == 1 })
	tiercachetest.MustPut(t, a, "k", v2, hourPolicy())
	tiercachetest.MustGet(t, b, "k", v1) // the message was lost: stale, within the bound
	clock.Add(int64(maxAge + time.Second))
	tiercachetest.MustGet(t, b, "k", v2) // past the max age: read from the authority
}

func TestLayeredBusConformance(t *testing.T) {
	tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
		l, _, _ := newFakeStack(t, 3, tiercache.WithBus(&fakeBus{}))
		return l
	})
}

// BenchmarkLayeredFrontHitBus is BenchmarkLayeredFrontHit with a bus
// connected: the front hit path must not change.
func BenchmarkLayeredFrontHitBus(b *testing.B) {
	front := newLayeredBenchLRU(b, lru.Config{}, layeredBenchHot)
	l := tiercache.NewLayered([]tiercache.Manager{front, newTierFake(1, nil)}, tiercache.WithBus(&fakeBus{}))
	b.Cleanup(func() { _ = l.Close() })
	benchLayeredGet(b, l)
}

func BenchmarkLayeredFrontHitBusParallel(b *testing.B) {
	front := newLayeredBenchLRU(b, lru.Config{}, layeredBenchHot)
	l := tiercache.NewLayered([]tiercache.Manager{front, newTierFake(1, nil)}, tiercache.WithBus(&fakeBus{}))
	b.Cleanup(func() { _ = l.Close() })
	benchLayeredGetParallel(b, l)
}
