package tiercache_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestLayeredConformance(t *testing.T) {
	stacks := []struct {
		name string
		n    int
		opts []tiercache.LayeredOption
	}{
		{"one", 1, nil},
		{"three", 3, nil},
		{"three-async", 3, []tiercache.LayeredOption{tiercache.WithAsyncPromotion(16)}},
		{"three-strict", 3, []tiercache.LayeredOption{tiercache.WithFailOnError(true)}},
	}
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel() // the suite's real-time waits overlap
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
				l, _, _ := newFakeStack(t, s.n, s.opts...)
				return l
			})
		})
	}
}

func TestLayeredPromotion(t *testing.T) {
	for _, async := range []bool{false, true} {
		for from := 1; from <= 2; from++ {
			t.Run(fmt.Sprintf("from%d-async=%v", from, async), func(t *testing.T) {
				var opts []tiercache.LayeredOption
				if async {
					opts = append(opts, tiercache.WithAsyncPromotion(4))
				}
				l, fakes, _ := newFakeStack(t, 3, opts...)
				resp, pol := tiercachetest.Response("v", 64), hourPolicy()
				fakes[from].set("k", resp, pol)
				tiercachetest.MustGet(t, l, "k", resp)
				_ = l.Close() // drains the queue
				for i := range from {
					if e := fakes[i].entry("k"); e.resp != resp || e.pol != pol {
						t.Errorf("tier %d holds %p/%p, want the promoted %p/%p", i, e.resp, e.pol, resp, pol)
					}
				}
				if from == 1 && fakes[2].entry("k").resp != nil {
					t.Errorf("tier 2 was written by promotion")
				}
				st := l.Stats()
				for i := range 3 {
					want := uint64(0)
					if i < from {
						want = 1
					}
					if st.Tiers[i].Promotions != want {
						t.Errorf("tier %d promotions = %d, want %d", i, st.Tiers[i].Promotions, want)
					}
				}
			})
		}
	}
}

func TestLayeredAsyncQueueFull(t *testing.T) {
	log := &tierOpLog{}
	front, lower := newTierFake(0, log), newTierFake(1, log)
	g := newHoldGate()
	front.onPut = g.wait
	l := tiercache.NewLayered([]tiercache.Manager{front, lower}, tiercache.WithAsyncPromotion(1))
	defer l.Close()
	for _, k := range []string{"a", "b", "c"} {
		lower.set(k, tiercachetest.Response(k, 8), hourPolicy())
	}
	tiercachetest.MustGet(t, l, "a", lower.entry("a").resp)
	<-g.entered                                             // the worker holds a's promotion; the queue is empty
	tiercachetest.MustGet(t, l, "b", lower.entry("b").resp) // queued
	tiercachetest.MustGet(t, l, "c", lower.entry("c").resp) // queue full: dropped
	if st := l.Stats(); st.PromotionsDropped != 1 || st.Tiers[1].PromotionsDropped != 1 {
		t.Errorf("PromotionsDropped = %d (tier 1: %d), want 1 (1)", st.PromotionsDropped, st.Tiers[1].PromotionsDropped)
	}
	close(g.release)
	_ = l.Close()
	for k, want := range map[string]bool{"a": true, "b": true, "c": false} {
		if got := front.entry(k).resp != nil; got != want {
			t.Errorf("front holds %s: %v, want %v", k, got, want)
		}
	}
	if _, _, err := l.Get(lctx, "a"); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

func TestLayeredPut(t *testing.T) {
	tests := []struct {
		name      string
		failTier  int // -1: none
		wantLog   string
		wantTiers [3]string // body seed each tier holds afterwards ("" = nothing)
		wantResp  bool
	}{
		{"ok", -1, "put 2 k, put 1 k, put 0 k", [3]string{"new", "new", "new"}, true},
		{"authority fails", 2, "put 2 k", [3]string{"old", "old", "old"}, false},
		{"middle fails", 1, "put 2 k, put 1 k, delete 1 k, put 0 k", [3]string{"new", "", "new"}, true},
		{"front fails", 0, "put 2 k, put 1 k, put 0 k, delete 0 k", [3]string{"", "new", "new"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hook tierHookCalls
			l, fakes, log := newFakeStack(t, 3, tiercache.WithErrorHook(hook.hook))
			for _, f := range fakes {
				f.set("k", tiercachetest.Response("old", 8), hourPolicy())
			}
			if tc.failTier >= 0 {
				// The failing tier's Delete works, as in a full or read-only tier.
				fakes[tc.failTier].setErrors(nil, errTierBoom, nil)
			}
			resp := tiercachetest.Response("new", 8)
			got, err := l.Put(lctx, "k", resp, hourPolicy())
			if log.String() != tc.wantLog {
				t.Errorf("writes: %s\nwant:   %s", log, tc.wantLog)
			}
			if (got == resp) != tc.wantResp {
				t.Errorf("Put returned %p, want resp: %v", got, tc.wantResp)
			}
			checkLayeredPutError(t, err, tc.failTier)
			if tc.failTier >= 0 && hook.String() == "" {
				t.Errorf("error hook not called")
			}
			for i, f := range fakes {
				e := f.entry("k")
				if seed := seedOf(e.resp); seed != tc.wantTiers[i] {
					t.Errorf("tier %d holds %q, want %q", i, seed, tc.wantTiers[i])
				}
			}
		})
	}
}

func checkLayeredPutError(t *testing.T, err error, failTier int) {
	t.Helper()
	if failTier < 0 {
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		return
	}
	var te *tiercache.TierError
	if !errors.Is(err, errTierBoom) || !errors.As(err, &te) || te.Tier != failTier || te.Op != "put" {
		t.Fatalf("Put error = %v, want a put error of tier %d wrapping errTierBoom", err, failTier)
	}
	if want := fmt.Sprintf("tier %d put", failTier); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

func seedOf(r *tiercache.Response) string {
	if r == nil {
		return ""
	}
	return r.Header.Get("X-Seed")
}

func TestLayeredDeleteJoinsErrors(t *testing.T) {
	var hook tierHookCalls
	l, fakes, log := newFakeStack(t, 3, tiercache.WithTierNames("lru", "memcached", "disk"),
		tiercache.WithErrorHook(hook.hook))
	for _, f := range fakes {
		f.set("k", tiercachetest.Response("v", 8), hourPolicy())
	}
	err0, err2 := errors.New("front down"), errors.New("disk full")
	fakes[0].setErrors(nil, nil, err0)
	fakes[2].setErrors(nil, nil, err2)
	err := l.Delete(lctx, "k")
	if !errors.Is(err, err0) || !errors.Is(err, err2) {
		t.Fatalf("Delete error %v does not wrap both tier errors", err)
	}
	for _, want := range []string{"tier 0 (lru) delete: front down", "tier 2 (disk) delete: disk full"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if log.String() != "delete 2 k, delete 1 k, delete 0 k" {
		t.Errorf("deletes: %s", log)
	}
	if fakes[1].entry("k").resp != nil {
		t.Errorf("tier 1 still holds the key")
	}
	st := l.Stats()
	if st.Tiers[0].Errors != 1 || st.Tiers[1].Errors != 0 || st.Tiers[2].Errors != 1 {
		t.Errorf("errors per tier = %d %d %d, want 1 0 1", st.Tiers[0].Errors, st.Tiers[1].Errors, st.Tiers[2].Errors)
	}
	if st.Tiers[2].Name != "disk" {
		t.Errorf("tier 2 name = %q", st.Tiers[2].Name)
	}
	if want := "2 delete k: disk full; 0 delete k: front down"; hook.String() != want {
		t.Errorf("hook calls %q, want %q", hook.String(), want)
	}
}

func TestLayeredGetErrors(t *testing.T) {
	tests := []struct {
		name     string
		strict   bool
		failTier int
	}{
		{"fail-open front", false, 0},
		{"fail-open middle", false, 1},
		{"strict front", true, 0},
		{"strict middle", true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hook tierHookCalls
			l, fakes, _ := newFakeStack(t, 3, tiercache.WithFailOnError(tc.strict), tiercache.WithErrorHook(hook.hook))
			want := tiercachetest.Response("v", 8)
			fakes[2].set("k", want, hourPolicy())
			fakes[tc.failTier].setErrors(errTierBoom, nil, nil)
			got, _, err := l.Get(lctx, "k")
			if tc.strict {
				var te *tiercache.TierError
				if got != nil || !errors.Is(err, errTierBoom) || !errors.As(err, &te) || te.Tier != tc.failTier || te.Op != "get" {
					t.Fatalf("strict Get = %v, %v; want a get error of tier %d", got, err, tc.failTier)
				}
			} else if err != nil || got != want {
				t.Fatalf("fail-open Get = %v, %v; want the authority's value", got, err)
			}
			if wantHook := fmt.Sprintf("%d get k: boom", tc.failTier); hook.String() != wantHook {
				t.Errorf("hook calls %q, want %q", hook.String(), wantHook)
			}
			if e := l.Stats().Tiers[tc.failTier].Errors; e != 1 {
				t.Errorf("tier %d errors = %d, want 1", tc.failTier, e)
			}
		})
	}
}

func TestLayeredStats(t *testing.T) {
	l, fakes, _ := newFakeStack(t, 3, tiercache.WithTierNames("a", "b", "c"))
	fakes[2].set("k", tiercachetest.Response("v", 8), hourPolicy())
	tiercachetest.MustGet(t, l, "absent", nil)                     // miss, miss, miss
	_ = tiercachetest.MustGet(t, l, "k", fakes[2].entry("k").resp) // miss, miss, hit; promote 1, 0
	const hits = 1000
	for range hits {
		_, _, _ = l.Get(lctx, "k") // front hits
	}
	fakes[1].setErrors(errTierBoom, nil, nil)
	tiercachetest.MustGet(t, l, "other", nil) // miss, error, miss
	st := l.Stats()
	want := []tiercache.TierStats{
		{Name: "a", Hits: hits, Misses: 3, Promotions: 1},
		{Name: "b", Misses: 2, Errors: 1, Promotions: 1},
		{Name: "c", Hits: 1, Misses: 2},
	}
	for i, w := range want {
		got := st.Tiers[i]
		got.Latency = tiercache.LatencyStats{}
		if got != w {
			t.Errorf("tier %d stats = %+v, want %+v", i, got, w)
		}
	}
	if st.PromotionsDropped != 0 || st.PromotionsSkipped != 0 {
		t.Errorf("dropped/skipped = %d/%d", st.PromotionsDropped, st.PromotionsSkipped)
	}
}

func TestLayeredLatencyStats(t *testing.T) {
	l, _, _ := newFakeStack(t, 2)
	const gets = 2000
	for range gets {
		tiercachetest.MustGet(t, l, "absent", nil)
	}
	for i, ts := range l.Stats().Tiers {
		lat := ts.Latency
		if lat.Samples > gets || lat.P50 > lat.P99 || lat.P99 > lat.Max || lat.Mean > lat.Max {
			t.Errorf("tier %d latency summary inconsistent: %+v", i, lat)
		}
		// Lower tiers time one lookup in 64: none in 2000 has probability ~1e-14.
		if i > 0 && lat.Samples == 0 {
			t.Errorf("tier %d: no latency samples in %d lookups", i, gets)
		}
	}
}

func TestLayeredClosed(t *testing.T) {
	for _, async := range []bool{false, true} {
		var opts []tiercache.LayeredOption
		if async {
			opts = append(opts, tiercache.WithAsyncPromotion(8))
		}
		l, _, _ := newFakeStack(t, 2, opts...)
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		_, _, errGet := l.Get(lctx, "k")
		_, errPut := l.Put(lctx, "k", tiercachetest.Response("v", 8), hourPolicy())
		errDel := l.Delete(lctx, "k")
		for _, err := range []error{errGet, errPut, errDel} {
			if !errors.Is(err, tiercache.ErrClosed) {
				t.Errorf("async=%v: call after Close = %v, want ErrClosed", async, err)
			}
		}
	}
}

func TestLayeredNoTiers(t *testing.T) {
	for name, tiers := range map[string][]tiercache.Manager{"nil": nil, "nil entry": {nil}} {
		t.Run(name, func(t *testing.T) {
			l := tiercache.NewLayered(tiers)
			defer l.Close()
			resp := tiercachetest.Response("v", 8)
			tiercachetest.MustPut(t, l, "k", resp, hourPolicy())
			tiercachetest.MustGet(t, l, "k", nil)
			if _, err := l.Put(lctx, "", resp, hourPolicy()); !errors.Is(err, tiercache.ErrInvalid) {
				t.Errorf("Put with empty key = %v, want ErrInvalid", err)
			}
			if err := l.Delete(lctx, "k"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if n := len(l.Stats().Tiers); n != 0 {
				t.Errorf("%d tier stats", n)
			}
		})
	}
}
