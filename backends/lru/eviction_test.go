package lru

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	arc "github.com/hashicorp/golang-lru/arc/v2"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// prefixTrace is the first 40,000 requests of the ARC paper's OLTP trace
// (testdata/README.md).
const prefixTrace = "testdata/OLTP-40k.lis.zst"

func TestEvictionNames(t *testing.T) {
	for _, ev := range evictions {
		got, err := ParseEviction(" " + ev.String() + " ")
		if err != nil || got != ev {
			t.Errorf("ParseEviction(%q) = %v, %v", ev.String(), got, err)
		}
	}
	if ev, err := ParseEviction("ADAPTIVE"); err != nil || ev != Adaptive {
		t.Errorf("ParseEviction is not case-insensitive: %v, %v", ev, err)
	}
	if _, err := ParseEviction("lfu"); !errors.Is(err, tiercache.ErrInvalid) {
		t.Errorf("ParseEviction(lfu) error = %v, want ErrInvalid", err)
	}
	if s := Eviction(9).String(); s != "Eviction(9)" {
		t.Errorf("Eviction(9).String() = %q", s)
	}
}

// TestARCMatchesGolangLRU replays a trace through golang-lru's arc/v2 and
// through the ARC eviction with an entry budget only: every request must
// hit or miss in both.
func TestARCMatchesGolangLRU(t *testing.T) {
	tr := loadLIS(t, prefixTrace)
	for _, size := range []int{100, 1000, 5000} {
		ref, err := arc.NewARC[string, int](size)
		if err != nil {
			t.Fatal(err)
		}
		ours := newARC(budget{size, 1 << 50})
		hits := 0
		for i, r := range tr.reqs {
			k := tr.keys[r]
			_, want := ref.Get(k)
			_, got := ours.get(k, 0)
			if got != want {
				t.Fatalf("size %d, request %d (%s): hit %v, arc/v2 %v", size, i, k, got, want)
			}
			if got {
				hits++
				continue
			}
			ref.Add(k, 0)
			ours.add(k, 0, entry{size: 1})
		}
		if hits == 0 || ours.len() != ref.Len() {
			t.Fatalf("size %d: %d hits, %d entries (arc/v2 %d)", size, hits, ours.len(), ref.Len())
		}
	}
}

// TestNoEntryPastDeadline: under random Puts with random retentions, Gets
// and a fake clock that moves forward, no eviction ever returns an entry at
// or past its deadline, and every live entry it returns is the last one
// stored under its key.
func TestNoEntryPastDeadline(t *testing.T) {
	for _, ev := range evictions {
		t.Run(ev.String(), func(t *testing.T) {
			c := newFakeClock()
			m := newManager(t, Config{MaxEntries: 200, MaxBytes: 1 << 20, Shards: 2, Now: c.Now, Eviction: ev})
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(7, uint64(ev)))
			type stored struct {
				resp     *tiercache.Response
				deadline time.Time
			}
			last := map[string]stored{}
			hits := 0
			for i := range 20000 {
				key := fmt.Sprintf("k%d", rng.IntN(500))
				if rng.IntN(3) == 0 {
					ttl := time.Duration(1+rng.IntN(100)) * time.Millisecond
					resp := tiercachetest.Response(fmt.Sprint(i), 10)
					tiercachetest.MustPut(t, m, key, resp, c.ttl(ttl))
					last[key] = stored{resp, c.Now().Add(ttl)}
				} else if got, _, err := m.Get(ctx, key); err != nil {
					t.Fatal(err)
				} else if got != nil {
					hits++
					if s := last[key]; got != s.resp || !c.Now().Before(s.deadline) {
						t.Fatalf("Get(%s) at %v returned an entry due at %v (same as last Put: %v)",
							key, c.Now(), s.deadline, got == s.resp)
					}
				}
				c.Add(time.Duration(rng.IntN(200)) * time.Microsecond)
			}
			if hits == 0 || m.Stats().Expired == 0 {
				t.Fatalf("%d hits, stats %+v: the test does not exercise expiry", hits, m.Stats())
			}
		})
	}
}

// TestParallelMixed runs Gets, Puts and Deletes on every eviction under
// b.RunParallel (run it with -race), then checks the accounting.
func TestParallelMixed(t *testing.T) {
	for _, ev := range evictions {
		t.Run(ev.String(), func(t *testing.T) {
			cfg := Config{MaxEntries: 256, MaxBytes: 256 << 10, Shards: 2, Eviction: ev}
			m := newManager(t, cfg)
			var seq atomic.Uint64
			res := testing.Benchmark(func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					rng := rand.New(rand.NewPCG(seq.Add(1), 3))
					ctx := context.Background()
					pol := tiercache.NewTTLPolicy(time.Hour)
					for pb.Next() {
						key := benchKeys[rng.IntN(hotKeys)]
						switch op := rng.IntN(20); {
						case op < 14:
							if resp, _, err := m.Get(ctx, key); err != nil || (resp != nil && resp.URL != "https://example.com/"+key) {
								t.Errorf("Get(%s): %v, a response of %q", key, err, resp.URL)
								return
							}
						case op < 19:
							if _, err := m.Put(ctx, key, tiercachetest.Response(key, rng.IntN(2048)), pol); err != nil {
								t.Errorf("Put: %v", err)
								return
							}
						default:
							m.Delete(ctx, key)
						}
					}
				})
			})
			if res.N == 0 {
				t.Fatal("the benchmark did not run")
			}
			checkAccounting(t, m, cfg)
		})
	}
}

// hitRatio replays reqs (key indexes) read-through on m and returns the
// hit ratio of the requests for which count returns true.
func hitRatio(t *testing.T, m *Manager, reqs []int, count func(i int) bool) float64 {
	t.Helper()
	ctx := context.Background()
	resp, pol := &tiercache.Response{Status: 200}, tiercache.NewTTLPolicy(time.Hour)
	hits, n := 0, 0
	for i, k := range reqs {
		key := fmt.Sprint(k)
		got, _, _ := m.Get(ctx, key)
		if count(i) {
			n++
			if got != nil {
				hits++
			}
		}
		if got == nil {
			tiercachetest.MustPut(t, m, key, resp, pol)
		}
	}
	return float64(hits) / float64(n)
}

// TestAdaptiveScanResistance: a hot set of half the cache, requested for a
// while, then interleaved with a one-time sequential scan of ten times the
// cache (3 scan keys to 1 hot): the hot set keeps its hit ratio under
// Adaptive (LRU loses it).
func TestAdaptiveScanResistance(t *testing.T) {
	const size, hot, scan = 2000, 1000, 20000
	rng := rand.New(rand.NewPCG(1, 1))
	var reqs []int
	for range 20 * size {
		reqs = append(reqs, rng.IntN(hot))
	}
	warm := len(reqs)
	for i := 0; i < scan; i += 3 {
		reqs = append(reqs, 1_000_000+i, 1_000_001+i, 1_000_002+i, rng.IntN(hot)) // 3 scan keys, a hot key
	}
	isHot := func(i int) bool { return i >= warm && reqs[i] < hot }
	for _, tc := range []struct {
		ev       Eviction
		min, max float64
	}{{Adaptive, 0.95, 1}, {LRU, 0, 0.7}} {
		m := newManager(t, Config{MaxEntries: size, Shards: 1, Eviction: tc.ev})
		got := hitRatio(t, m, reqs, isHot)
		t.Logf("%v: hot-set hit ratio during the scan %.3f", tc.ev, got)
		if got < tc.min || got > tc.max {
			t.Errorf("%v: hot-set hit ratio during the scan %.3f, want in [%.2f, %.2f]", tc.ev, got, tc.min, tc.max)
		}
	}
}

// TestAdaptiveAdmissionByBytes: a candidate must be estimated more popular
// than all the entries it would push out by bytes, not just the first.
func TestAdaptiveAdmissionByBytes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int64 // of the candidate, in units of a resident entry
		requests int   // of the candidate
		admitted bool
	}{
		{"SmallPopular", 1, 4, true},
		{"LargeAsPopularAsOne", 3, 4, false}, // 3 victims of estimate 2 each outweigh it
		{"LargeMorePopularThanAll", 3, 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const unit, n = 1000, 100
			var p policy
			p.init(budget{1 << 20, n * unit}, 0, 1)
			p.requests = 1 << 40 // warm: refusals allowed
			for i := range n {
				h := uint64(i+1) * mixConstant
				p.record(h)
				p.record(h)
				p.insert(&node{hash: h, entry: entry{size: unit}}, nil)
			}
			c := uint64(0x5eed_c0ffee_1234)
			for range tc.requests {
				p.record(c)
			}
			_, refused := p.insert(&node{hash: c, entry: entry{size: tc.size * unit}}, nil)
			if admitted := p.nodes[c] != nil; admitted != tc.admitted || (refused == 0) != tc.admitted {
				t.Fatalf("admitted %v (refused %d), want %v", admitted, refused, tc.admitted)
			}
			if p.bytes() > n*unit {
				t.Fatalf("%d bytes held, budget %d", p.bytes(), n*unit)
			}
		})
	}
}

// TestAdaptiveBeatsLRUOnPrefix replays the OLTP prefix: Adaptive must beat
// LRU clearly and be within 2 points of ARC (the prefix is mostly warm-up).
func TestAdaptiveBeatsLRUOnPrefix(t *testing.T) {
	tr := loadLIS(t, prefixTrace)
	got := map[Eviction]float64{}
	for _, ev := range evictions {
		got[ev] = replayHitRatio(t, tr, ev, 1000)
	}
	t.Logf("OLTP prefix, 1000 entries: %v", got)
	if got[Adaptive] < got[LRU]+5 || got[Adaptive] < got[ARC]-2 {
		t.Fatalf("hit ratios %v: Adaptive must beat LRU by 5 points and be within 2 of ARC", got)
	}
}

// TestAdaptiveClimbs: the window share moves up from 1% on a trace where
// only recency wins (every key requested twice, 0 to a cache apart) and
// stays low where frequency wins (a skewed key popularity wider than the
// cache, with one-time keys between). The recency trace starts on a
// plateau: below 5% a larger window gains almost nothing (a key hits only
// when both its requests fall within the window, a chance quadratic in its
// size). Seeds 24, 159 and 365 are ones for which the climb used to stay
// there (3 in 400), before the simulations probed further out on a
// plateau.
func TestAdaptiveClimbs(t *testing.T) {
	const size = 8192
	rng := rand.New(rand.NewPCG(2, 2))
	recency, frequency := []int{}, []int{}
	for phase := range 80 { // every key twice, up to a cache apart: only recency can hit
		keys := make([]int, size/2)
		for k := range keys {
			keys[k] = phase*size + k
		}
		recency = append(recency, keys...)
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		recency = append(recency, keys...)
	}
	for range 160 * size {
		if rng.IntN(2) == 0 {
			frequency = append(frequency, int(rng.ExpFloat64()*size))
		} else {
			frequency = append(frequency, 10_000_000+rng.IntN(1<<30))
		}
	}
	for _, tc := range []struct {
		name     string
		reqs     []int
		seed     uint64
		min, max float64 // of the window share at the end
	}{
		{"Recency/1", recency, 1, 0.1, 1},
		{"Recency/24", recency, 24, 0.1, 1},
		{"Recency/159", recency, 159, 0.1, 1},
		{"Recency/365", recency, 365, 0.1, 1},
		{"Frequency/1", frequency, 1, 0, 0.05},
		{"Frequency/2", frequency, 2, 0, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The shard of a Manager of size entries, with keys hashed by
			// a fixed function of the seed instead of a random maphash.
			a := newAdaptive(budget{size, 1 << 40}, tc.seed*0x9e3779b97f4a7c15)
			for _, k := range tc.reqs {
				key := strconv.Itoa(k)
				h := uint64(k)*0x9e3779b97f4a7c15 ^ tc.seed*0xbf58476d1ce4e5b9
				if _, ok := a.get(key, h); !ok {
					a.add(key, h, entry{size: 300, deadline: math.MaxInt64})
				}
			}
			if share := a.p.share; share < tc.min || share > tc.max || !a.cl.on {
				t.Errorf("window share %.3f (climbing %v), want in [%.2f, %.2f]", share, a.cl.on, tc.min, tc.max)
			}
		})
	}
}

// TestAdaptiveHashCollision: two keys with the same 64-bit hash never read
// each other's entry; the later Put replaces the other key's.
func TestAdaptiveHashCollision(t *testing.T) {
	a := newAdaptive(budget{10, 1 << 20}, 1)
	const h = 0x1234_5678 // the hash of both "a" and "b" here
	a.add("a", h, entry{size: 1, deadline: 1})
	if _, ok := a.get("b", h); ok {
		t.Fatal("a key read the entry of another key with the same hash")
	}
	a.add("b", h, entry{size: 2, deadline: 2})
	if e, ok := a.get("b", h); !ok || e.deadline != 2 || a.len() != 1 || a.bytes() != 2 {
		t.Fatalf("after Put: %+v, %v, len %d, bytes %d", e, ok, a.len(), a.bytes())
	}
	if _, ok := a.get("a", h); ok {
		t.Fatal("the replaced key still reads")
	}
	a.remove("a", h)
	if a.len() != 1 {
		t.Fatal("Delete of a colliding key removed another key's entry")
	}
}

// TestFakeClockBefore1970: a Config.Now clock before 1970 expires entries
// exactly: deadlines do not saturate. (At the zero time itself
// tiercache.Policy's KeepFor overflows, a root-package matter; see
// TestFakeClockAtZeroTime for the lru side.)
func TestFakeClockBefore1970(t *testing.T) {
	for _, start := range []time.Time{time.Date(1950, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)} {
		for _, ev := range evictions {
			t.Run(fmt.Sprintf("%d/%v", start.Year(), ev), func(t *testing.T) {
				now := start
				m := newManager(t, Config{Eviction: ev, Now: func() time.Time { return now }})
				want := tiercachetest.Response("k", 10)
				tiercachetest.MustPut(t, m, "k", want, tiercache.NewTTLPolicy(time.Minute, tiercache.WithNow(now)))
				now = start.Add(time.Minute - 1)
				tiercachetest.MustGet(t, m, "k", want)
				now = start.Add(time.Minute)
				tiercachetest.MustGet(t, m, "k", nil)
				now = start.Add(-time.Hour) // a clock that goes back before its start
				tiercachetest.MustPut(t, m, "k", want, tiercache.NewTTLPolicy(time.Minute, tiercache.WithNow(now)))
				now = now.Add(time.Minute)
				tiercachetest.MustGet(t, m, "k", nil)
			})
		}
	}
}

// TestFakeClockAtZeroTime: with Config.Now at the zero time, deadlines are
// nanoseconds since that start, exact, and an entry expires on time.
func TestFakeClockAtZeroTime(t *testing.T) {
	for _, ev := range evictions {
		var now time.Time
		m := newManager(t, Config{Eviction: ev, Now: func() time.Time { return now }})
		if got := m.nanos(now.Add(time.Minute)); got != int64(time.Minute) {
			t.Fatalf("nanos(zero time + 1m) = %d", got)
		}
		d := deadline(m.nanos(now), time.Minute)
		if d != int64(time.Minute) {
			t.Fatalf("deadline at the zero time + 1m = %d, want %d", d, int64(time.Minute))
		}
		want := tiercachetest.Response("k", 10)
		s, h := m.shard("k")
		s.mu.Lock()
		s.putLocked("k", h, entry{resp: want, pol: tiercache.NewTTLPolicy(time.Minute), deadline: d, size: 100})
		s.mu.Unlock()
		now = now.Add(time.Minute - 1)
		tiercachetest.MustGet(t, m, "k", want)
		now = now.Add(1)
		tiercachetest.MustGet(t, m, "k", nil)
	}
	if got := deadline(-5, time.Duration(math.MaxInt64)); got != math.MaxInt64-5 {
		t.Fatalf("deadline(-5, max) = %d: a negative now must not saturate early", got)
	}
}

func TestStatsGauges(t *testing.T) {
	for _, ev := range evictions {
		m := newManager(t, Config{MaxEntries: 4, Shards: 1, Eviction: ev})
		for i := range 10 {
			tiercachetest.MustPut(t, m, fmt.Sprint(i), tiercachetest.Response("v", 10), tiercache.NewTTLPolicy(time.Hour))
		}
		st := m.Stats()
		if st.Entries != int64(m.Len()) || st.Bytes != m.Bytes() || st.Entries != 4 || st.Evictions != 6 {
			t.Errorf("%v: Stats %+v, Len %d, Bytes %d", ev, st, m.Len(), m.Bytes())
		}
		if ev != Adaptive && st.Rejections != 0 {
			t.Errorf("%v counts %d rejections", ev, st.Rejections)
		}
		m.Close()
		if st := m.Stats(); st.Entries != 0 || st.Bytes != 0 || st.Evictions != 6 {
			t.Errorf("%v after Close: %+v", ev, st)
		}
	}
}

// TestAdaptiveGetAllocationFree: once the climber simulates, Gets (hits,
// and misses of keys the simulations then take) allocate nothing: the
// simulations reuse the nodes they drop.
func TestAdaptiveGetAllocationFree(t *testing.T) {
	m := newManager(t, Config{MaxEntries: 4096, Eviction: Adaptive, Shards: 1})
	ctx := context.Background()
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/%d", i)
	}
	for i := range 40000 {
		tiercachetest.MustPut(t, m, keys[i%5000], tiercachetest.Response("x", 10), tiercache.NewTTLPolicy(time.Hour))
	}
	if !m.shards[0].ev.(*adaptiveEvictor).cl.on {
		t.Fatal("the climber is not simulating")
	}
	i := 0
	if n := testing.AllocsPerRun(50000, func() { m.Get(ctx, keys[i%len(keys)]); i++ }); n != 0 {
		t.Fatalf("%v allocations per Get", n)
	}
}
