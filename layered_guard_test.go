package tiercache_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestLayeredNoResurrection interleaves a slow read of the authority (held
// by a holdGate after it has read the old value) with a Delete or a newer Put.
// The Get may return the old value (it started first) but its promotion must
// not write it into any tier.
func TestLayeredNoResurrection(t *testing.T) {
	for _, async := range []bool{false, true} {
		for _, write := range []string{"delete", "put"} {
			t.Run(fmt.Sprintf("%s-async=%v", write, async), func(t *testing.T) {
				var opts []tiercache.LayeredOption
				if async {
					opts = append(opts, tiercache.WithAsyncPromotion(4))
				}
				l, fakes, _ := newFakeStack(t, 3, opts...)
				old, newer := tiercachetest.Response("old", 8), tiercachetest.Response("new", 8)
				fakes[2].set("k", old, hourPolicy())
				g := newHoldGate()
				fakes[2].onGet = g.wait

				done := make(chan *tiercache.Response)
				go func() {
					resp, _, _ := l.Get(lctx, "k")
					done <- resp
				}()
				<-g.entered // the Get has read "old" from the authority
				switch write {
				case "delete":
					if err := l.Delete(lctx, "k"); err != nil {
						t.Fatal(err)
					}
				case "put":
					tiercachetest.MustPut(t, l, "k", newer, hourPolicy())
				}
				close(g.release)
				if got := <-done; got != old {
					t.Fatalf("Get = %v, want the old value it read", seedOf(got))
				}
				_ = l.Close() // drains async promotions
				wantSeed := map[string]string{"delete": "", "put": "new"}[write]
				for i, f := range fakes {
					if seed := seedOf(f.entry("k").resp); seed != wantSeed {
						t.Errorf("tier %d holds %q after %s, want %q", i, seed, write, wantSeed)
					}
				}
				if st := l.Stats(); st.PromotionsSkipped != 1 || st.Tiers[2].PromotionsSkipped != 1 {
					t.Errorf("PromotionsSkipped = %d (tier 2: %d), want 1 (1)", st.PromotionsSkipped, st.Tiers[2].PromotionsSkipped)
				}
			})
		}
	}
}

// TestLayeredNoResurrectionPutInProgress reads the old value from the
// authority while a Put of a newer value holds the key's stripe: the
// promotion finds the stripe busy and is skipped.
func TestLayeredNoResurrectionPutInProgress(t *testing.T) {
	l, fakes, _ := newFakeStack(t, 3)
	old, newer := tiercachetest.Response("old", 8), tiercachetest.Response("new", 8)
	fakes[2].set("k", old, hourPolicy())
	g := newHoldGate()
	fakes[2].onPut = g.wait // the Put stops before storing in the authority
	putDone := make(chan error)
	go func() {
		_, err := l.Put(lctx, "k", newer, hourPolicy())
		putDone <- err
	}()
	<-g.entered
	tiercachetest.MustGet(t, l, "k", old) // reads old; its promotion must be skipped
	close(g.release)
	if err := <-putDone; err != nil {
		t.Fatal(err)
	}
	for i, f := range fakes {
		if seed := seedOf(f.entry("k").resp); seed != "new" {
			t.Errorf("tier %d holds %q, want new", i, seed)
		}
	}
	if s := l.Stats().PromotionsSkipped; s != 1 {
		t.Errorf("PromotionsSkipped = %d, want 1", s)
	}
}

// TestLayeredNoResurrectionMidPut reads a lower tier that a running Put has
// not written yet, and queues the promotion; the worker is held until the
// Put has returned, so the promotion finds the stripe free and must notice
// the newer generation (the Put increments it after its writes, not before).
func TestLayeredNoResurrectionMidPut(t *testing.T) {
	l, fakes, _ := newFakeStack(t, 3, tiercache.WithAsyncPromotion(4))
	old, newer := tiercachetest.Response("old", 8), tiercachetest.Response("new", 8)
	fakes[1].set("k", old, hourPolicy())
	fakes[2].set("k", old, hourPolicy())
	fakes[1].set("x", tiercachetest.Response("x", 8), hourPolicy())
	worker, put := newHoldGate(), newHoldGate()
	fakes[0].onPut = worker.wait // first front Put: the worker promoting x
	fakes[1].onPut = put.wait    // first tier-1 Put: the Put of k, after the authority
	tiercachetest.MustGet(t, l, "x", fakes[1].entry("x").resp)
	<-worker.entered
	putDone := make(chan error)
	go func() {
		_, err := l.Put(lctx, "k", newer, hourPolicy())
		putDone <- err
	}()
	<-put.entered
	tiercachetest.MustGet(t, l, "k", old) // tier 1 still holds old; promotion queued
	close(put.release)
	if err := <-putDone; err != nil {
		t.Fatal(err)
	}
	close(worker.release)
	_ = l.Close()
	for i, f := range fakes {
		if seed := seedOf(f.entry("k").resp); seed != "new" {
			t.Errorf("tier %d holds %q, want new", i, seed)
		}
	}
	if s := l.Stats().PromotionsSkipped; s != 1 {
		t.Errorf("PromotionsSkipped = %d, want 1", s)
	}
}

// TestLayeredFlightAfterDelete: a Get that starts after a Delete returned
// must not take the deleted value from a flight that started before it.
// Whether the second Get joins the flight or runs its own, it must miss.
func TestLayeredFlightAfterDelete(t *testing.T) {
	l, fakes, _ := newFakeStack(t, 3)
	old := tiercachetest.Response("old", 8)
	fakes[2].set("k", old, hourPolicy())
	g := newHoldGate()
	fakes[2].onGet = g.wait
	first := make(chan *tiercache.Response)
	go func() {
		resp, _, _ := l.Get(lctx, "k")
		first <- resp
	}()
	<-g.entered
	if err := l.Delete(lctx, "k"); err != nil {
		t.Fatal(err)
	}
	second := make(chan *tiercache.Response)
	go func() {
		resp, _, _ := l.Get(lctx, "k")
		second <- resp
	}()
	waitUntil(func() bool { return fakes[0].gets.Load() >= 3 }) // both front lookups and the re-check
	close(g.release)
	if got := <-first; got != old {
		t.Errorf("first Get = %q, want old", seedOf(got))
	}
	if got := <-second; got != nil {
		t.Errorf("Get after Delete = %q, want a miss", seedOf(got))
	}
}

// TestLayeredSingleflight: concurrent misses of the front for one key read
// the lower tier once; latecomers find the promoted value in the front.
func TestLayeredSingleflight(t *testing.T) {
	const n = 16
	l, fakes, _ := newFakeStack(t, 3)
	want := tiercachetest.Response("v", 8)
	fakes[1].set("k", want, hourPolicy())
	g := newHoldGate()
	fakes[1].onGet = g.wait
	var wg sync.WaitGroup
	results := make([]*tiercache.Response, n)
	for i := range n {
		wg.Go(func() { results[i], _, _ = l.Get(lctx, "k") })
	}
	<-g.entered
	waitUntil(func() bool { return fakes[0].gets.Load() >= n+1 }) // n lookups and the leader's re-check
	close(g.release)
	wg.Wait()
	if got := fakes[1].gets.Load(); got != 1 {
		t.Errorf("tier 1 read %d times, want 1", got)
	}
	if got := fakes[2].gets.Load(); got != 0 {
		t.Errorf("tier 2 read %d times, want 0", got)
	}
	for i, r := range results {
		if r != want {
			t.Fatalf("Get %d = %q", i, seedOf(r))
		}
	}
	t.Logf("coalesced: %d of %d", l.Stats().Coalesced, n)
}

// waitUntil yields until cond holds. It bounds nothing in time: the test
// deadline does.
func waitUntil(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// TestLayeredStress runs Get, Put and Delete on a few keys from several
// goroutines and then checks that no tier holds a deleted key or a value
// other than the key's last Put. Writes of one key are ordered by a test
// lock so that "last" is well defined; Gets and promotions run freely.
func TestLayeredStress(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			var opts []tiercache.LayeredOption
			if async {
				opts = append(opts, tiercache.WithAsyncPromotion(8))
			}
			l, fakes, _ := newFakeStack(t, 3, opts...)
			// Make the front forget now and then so reads go lower and promote.
			fakes[0].onGet = func(key string) {
				if rand.IntN(3) == 0 {
					fakes[0].mu.Lock()
					delete(fakes[0].m, key)
					fakes[0].mu.Unlock()
				}
			}
			last := runStress(t, l, 4, 6, 400)
			_ = l.Close()
			st := l.Stats()
			t.Logf("promotions into front %d, skipped %d, dropped %d, coalesced %d",
				st.Tiers[0].Promotions, st.PromotionsSkipped, st.PromotionsDropped, st.Coalesced)
			for key, seed := range last {
				for i, f := range fakes {
					if got := seedOf(f.entry(key).resp); got != "" && got != seed {
						t.Errorf("tier %d holds %s=%q, last op left %q", i, key, got, seed)
					}
				}
				if seed != "" && seedOf(fakes[2].entry(key).resp) != seed {
					t.Errorf("authority lost %s=%q", key, seed)
				}
			}
		})
	}
}

// runStress runs workers goroutines doing ops random operations on nkeys keys
// and returns each key's last written seed ("" after a Delete or never).
func runStress(t *testing.T, l *tiercache.Layered, nkeys, workers, ops int) map[string]string {
	t.Helper()
	var mu [16]sync.Mutex
	last := make([]string, nkeys)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				k := rand.IntN(nkeys)
				key := fmt.Sprintf("key%d", k)
				switch op := rand.IntN(10); {
				case op < 6:
					_, _, _ = l.Get(lctx, key)
				case op < 9:
					seed := fmt.Sprintf("w%d-%d", w, i)
					mu[k].Lock()
					if _, err := l.Put(lctx, key, tiercachetest.Response(seed, 16), hourPolicy()); err != nil {
						t.Error(err)
					}
					last[k] = seed
					mu[k].Unlock()
				default:
					mu[k].Lock()
					if err := l.Delete(lctx, key); err != nil {
						t.Error(err)
					}
					last[k] = ""
					mu[k].Unlock()
				}
			}
		})
	}
	stop := make(chan struct{})
	statsDone := make(chan struct{})
	go func() { // Stats runs beside the traffic (race detector check)
		defer close(statsDone)
		for {
			select {
			case <-stop:
				return
			default:
				_ = l.Stats()
				runtime.Gosched()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-statsDone
	out := make(map[string]string, nkeys)
	for k, seed := range last {
		out[fmt.Sprintf("key%d", k)] = seed
	}
	return out
}
