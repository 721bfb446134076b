package lru

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// fakeClock is a settable Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := new(fakeClock)
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) ttl(d time.Duration) *tiercache.Policy {
	return tiercache.NewTTLPolicy(d, tiercache.WithNow(c.Now()))
}

func newManager(t testing.TB, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// checkAccounting fails unless every shard's byte count is the sum of its
// entries' sizes and the totals are within budget.
func checkAccounting(t testing.TB, m *Manager, cfg Config) {
	t.Helper()
	var total int64
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		var sum int64
		s.ev.each(func(_ string, e entry) { sum += e.size })
		got, limit := s.ev.bytes(), s.maxBytes
		s.mu.Unlock()
		if got != sum || got > limit {
			t.Fatalf("shard %d counts %d bytes, entries sum to %d, budget %d", i, got, sum, limit)
		}
		total += got
	}
	if n := m.Len(); n > cfg.MaxEntries || total > cfg.MaxBytes || m.Bytes() != total {
		t.Fatalf("Len %d (max %d), Bytes %d / %d (max %d)", n, cfg.MaxEntries, m.Bytes(), total, cfg.MaxBytes)
	}
}

func TestConformance(t *testing.T) {
	for _, ev := range evictions {
		for _, tc := range []struct {
			name string
			cfg  Config
		}{
			{"Default", Config{}},
			{"OneShard", Config{Shards: 1}},
			{"Small", Config{MaxEntries: 64, MaxBytes: 1 << 20, Shards: 4}},
		} {
			t.Run(ev.String()+"/"+tc.name, func(t *testing.T) {
				tc.cfg.Eviction = ev
				tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager { return newManager(t, tc.cfg) })
			})
		}
	}
}

func TestNew(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		name       string
		cfg        Config
		wantErr    bool
		wantShards int
	}{
		{"Zero", Config{}, false, defaultShards(DefaultMaxEntries, DefaultMaxBytes, procs)},
		{"Explicit", Config{MaxEntries: 10, MaxBytes: 1 << 20, Shards: 2}, false, 2},
		{"TinyDefaults", Config{MaxEntries: 10, MaxBytes: 4096}, false, 1},
		{"MaxShards", Config{Shards: MaxShards}, false, MaxShards},
		{"NegativeEntries", Config{MaxEntries: -1}, true, 0},
		{"NegativeBytes", Config{MaxBytes: -1}, true, 0},
		{"NegativeShards", Config{Shards: -2}, true, 0},
		{"ShardsNotPowerOfTwo", Config{Shards: 3}, true, 0},
		{"TooManyShards", Config{Shards: 2 * MaxShards}, true, 0},
		{"ShardsAboveEntries", Config{MaxEntries: 2, Shards: 4}, true, 0},
		{"BytesTooSmallForShards", Config{MaxBytes: 1000, Shards: 8}, true, 0},
		{"UnknownEviction", Config{Eviction: Adaptive + 1}, true, 0},
		{"ARC", Config{Eviction: ARC, Shards: 2}, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if tc.wantErr {
				if !errors.Is(err, tiercache.ErrInvalid) {
					t.Fatalf("New(%+v) error = %v, want ErrInvalid", tc.cfg, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tc.cfg, err)
			}
			defer m.Close()
			if len(m.shards) != tc.wantShards {
				t.Fatalf("%d shards, want %d", len(m.shards), tc.wantShards)
			}
		})
	}
}

func TestDefaultShards(t *testing.T) {
	for _, tc := range []struct {
		entries int
		bytes   int64
		procs   int
		want    int
	}{
		{DefaultMaxEntries, DefaultMaxBytes, 1, 1},
		{DefaultMaxEntries, DefaultMaxBytes, 2, 1}, // see maxDefaultShards
		{DefaultMaxEntries, DefaultMaxBytes, 3, 4},
		{DefaultMaxEntries, DefaultMaxBytes, 16, 16},
		{DefaultMaxEntries, DefaultMaxBytes, 1000, maxDefaultShards},
		{DefaultMaxEntries, DefaultMaxBytes, 0, 1},
		{1000, DefaultMaxBytes, 8, 2},      // 256 entries a shard at least
		{DefaultMaxEntries, 4 << 20, 8, 4}, // 1 MiB a shard at least
		{10, 1 << 10, 8, 1},                // tiny budgets: one shard
	} {
		if got := defaultShards(tc.entries, tc.bytes, tc.procs); got != tc.want {
			t.Errorf("defaultShards(%d, %d, %d) = %d, want %d", tc.entries, tc.bytes, tc.procs, got, tc.want)
		}
	}
}

// TestBudgetsUnderRandomPuts: every eviction holds both budgets and its
// byte count after each of a random mix of Gets, Puts of any size and
// Deletes.
func TestBudgetsUnderRandomPuts(t *testing.T) {
	for _, ev := range evictions {
		for _, cfg := range []Config{
			{MaxEntries: 50, MaxBytes: 1 << 20, Shards: 1},
			{MaxEntries: 1000, MaxBytes: 64 << 10, Shards: 1},
			{MaxEntries: 64, MaxBytes: 256 << 10, Shards: 4},
			{MaxEntries: 512, MaxBytes: 512 << 10, Shards: 16},
		} {
			cfg.Eviction = ev
			t.Run(fmt.Sprintf("%v-%d-%d-%d", ev, cfg.MaxEntries, cfg.MaxBytes, cfg.Shards), func(t *testing.T) {
				m := newManager(t, cfg)
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(1, uint64(cfg.MaxEntries)))
				limit := cfg.MaxBytes / int64(cfg.Shards)
				for i := range 3000 {
					key := fmt.Sprintf("k%d", rng.IntN(400))
					switch op := rng.IntN(10); {
					case op < 4:
						m.Get(ctx, key)
					case op < 9:
						resp := tiercachetest.Response(key, rng.IntN(int(limit)/4))
						_, err := m.Put(ctx, key, resp, tiercache.NewTTLPolicy(time.Hour))
						if err != nil && !errors.Is(err, tiercache.ErrTooLarge) {
							t.Fatalf("Put %d: %v", i, err)
						}
					default:
						m.Delete(ctx, key)
					}
					checkAccounting(t, m, cfg)
				}
				if m.Stats().Evictions == 0 {
					t.Fatal("no evictions: the test does not exercise the budgets")
				}
			})
		}
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, Config{MaxEntries: 3, Shards: 1})
	for _, k := range []string{"a", "b", "c"} {
		tiercachetest.MustPut(t, m, k, tiercachetest.Response(k, 10), tiercache.NewTTLPolicy(time.Hour))
	}
	tiercachetest.MustGet(t, m, "a", tiercachetest.Response("a", 10)) // a is now the most recent
	tiercachetest.MustPut(t, m, "d", tiercachetest.Response("d", 10), tiercache.NewTTLPolicy(time.Hour))
	if resp, _, _ := m.Get(ctx, "b"); resp != nil {
		t.Fatal("b survived; it was the least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		tiercachetest.MustGet(t, m, k, tiercachetest.Response(k, 10))
	}
	if st := m.Stats(); st.Evictions != 1 || st.Hits != 4 || st.Misses != 1 {
		t.Fatalf("Stats() = %+v, want 1 eviction, 4 hits, 1 miss", st)
	}
}

func TestExpiry(t *testing.T) {
	swr := func(c *fakeClock) *tiercache.Policy {
		resp := &http.Response{StatusCode: 200, Header: http.Header{
			"Cache-Control": {"max-age=60, stale-while-revalidate=30"}}}
		return tiercache.NewPolicy(nil, resp, tiercache.WithNow(c.Now()))
	}
	for _, tc := range []struct {
		name    string
		pol     func(c *fakeClock) *tiercache.Policy
		keepFor time.Duration
	}{
		{"TTL", func(c *fakeClock) *tiercache.Policy { return c.ttl(time.Minute) }, time.Minute},
		{"StaleWhileRevalidate", swr, 90 * time.Second},
		{"OneNanosecond", func(c *fakeClock) *tiercache.Policy { return c.ttl(1) }, 1},
	} {
		for _, ev := range evictions {
			t.Run(ev.String()+"/"+tc.name, func(t *testing.T) {
				testExpiry(t, ev, tc.pol, tc.keepFor)
			})
		}
	}
}

func testExpiry(t *testing.T, ev Eviction, pol func(c *fakeClock) *tiercache.Policy, keepFor time.Duration) {
	c := newFakeClock()
	m := newManager(t, Config{Now: c.Now, Eviction: ev})
	start, want := c.Now(), tiercachetest.Response("e", 100)
	tiercachetest.MustPut(t, m, "e", want, pol(c))
	c.Set(start.Add(keepFor - 1))
	tiercachetest.MustGet(t, m, "e", want)
	c.Set(start.Add(keepFor))
	tiercachetest.MustGet(t, m, "e", nil)
	if st := m.Stats(); st.Expired != 1 || st.Misses != 1 || m.Len() != 0 || m.Bytes() != 0 {
		t.Fatalf("after expiry: Stats %+v, Len %d, Bytes %d", st, m.Len(), m.Bytes())
	}
}

func TestNonPositiveKeepForRemoves(t *testing.T) {
	ctx := context.Background()
	c := newFakeClock()
	noStore := tiercache.NewPolicy(nil, &http.Response{StatusCode: 200,
		Header: http.Header{"Cache-Control": {"no-store"}}}, tiercache.WithNow(c.Now()))
	for _, tc := range []struct {
		name string
		pol  *tiercache.Policy
	}{
		{"Expired", tiercache.NewTTLPolicy(time.Hour, tiercache.WithNow(c.Now().Add(-2*time.Hour)))},
		{"ZeroTTL", c.ttl(0)},
		{"NotStorable", noStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, Config{Now: c.Now})
			tiercachetest.MustPut(t, m, "k", tiercachetest.Response("old", 100), c.ttl(time.Hour))
			resp := tiercachetest.Response("new", 100)
			got, err := m.Put(ctx, "k", resp, tc.pol)
			if err != nil || got != resp {
				t.Fatalf("Put = %p, %v; want %p, nil", got, err, resp)
			}
			tiercachetest.MustGet(t, m, "k", nil)
			if m.Len() != 0 || m.Bytes() != 0 {
				t.Fatalf("Len %d, Bytes %d after removal", m.Len(), m.Bytes())
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	const budget = 8192
	m := newManager(t, Config{MaxBytes: budget, Shards: 1})
	pol := tiercache.NewTTLPolicy(time.Hour)
	old := tiercachetest.Response("old", 100)
	tiercachetest.MustPut(t, m, "k", old, pol)

	// Exactly the budget fits; one byte more does not.
	fit := tiercachetest.Response("fit", 0)
	fit.Body = make([]byte, budget-entrySize("k", fit, pol))
	tiercachetest.MustPut(t, m, "k", fit, pol)
	tiercachetest.MustGet(t, m, "k", fit)

	big := fit.Clone()
	big.Body = append(big.Body, 0)
	if _, err := m.Put(ctx, "k", big, pol); !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put of %d bytes into a %d-byte budget: error %v, want ErrTooLarge", entrySize("k", big, pol), budget, err)
	}
	tiercachetest.MustGet(t, m, "k", nil) // the older value is gone too
	if m.Bytes() != 0 {
		t.Fatalf("Bytes() = %d after a refused Put", m.Bytes())
	}
}

func TestCancelledContextStillHits(t *testing.T) {
	m := newManager(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	want := tiercachetest.Response("k", 10)
	if _, err := m.Put(ctx, "k", want, tiercache.NewTTLPolicy(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := m.Get(ctx, "k"); err != nil || got != want {
		t.Fatalf("Get with a cancelled context = %p, %v; want %p", got, err, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, ev := range evictions {
		t.Run(ev.String(), func(t *testing.T) { testConcurrentUse(t, ev) })
	}
}

func testConcurrentUse(t *testing.T, ev Eviction) {
	cfg := Config{MaxEntries: 128, MaxBytes: 128 << 10, Shards: 8, Eviction: ev}
	m := newManager(t, cfg)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 2000 {
				key := fmt.Sprintf("k%d", rng.IntN(300))
				switch op := rng.IntN(10); {
				case op < 5:
					if resp, pol, err := m.Get(ctx, key); err != nil || (resp == nil) != (pol == nil) {
						t.Errorf("Get(%q) = %v, %v, %v", key, resp != nil, pol != nil, err)
						return
					}
				case op < 9:
					if _, err := m.Put(ctx, key, tiercachetest.Response(key, rng.IntN(4096)), tiercache.NewTTLPolicy(time.Hour)); err != nil {
						t.Errorf("Put(%q): %v", key, err)
						return
					}
				default:
					if err := m.Delete(ctx, key); err != nil {
						t.Errorf("Delete(%q): %v", key, err)
						return
					}
					_, _, _ = m.Stats(), m.Len(), m.Bytes()
				}
			}
		})
	}
	wg.Wait()
	checkAccounting(t, m, cfg)
}

func TestNoAllocations(t *testing.T) {
	for _, ev := range evictions {
		t.Run(ev.String(), func(t *testing.T) { testNoAllocations(t, ev) })
	}
}

func testNoAllocations(t *testing.T, ev Eviction) {
	ctx := context.Background()
	m := newManager(t, Config{Eviction: ev})
	pol := tiercache.NewTTLPolicy(time.Hour)
	resp := tiercachetest.Response("hit", 100)
	tiercachetest.MustPut(t, m, "hit", resp, pol)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"GetHit", func() { m.Get(ctx, "hit") }},
		{"GetMiss", func() { m.Get(ctx, "miss") }},
		{"PutOverwrite", func() { m.Put(ctx, "hit", resp, pol) }},
		{"DeleteMissing", func() { m.Delete(ctx, "miss") }},
		{"Stats", func() { m.Stats() }},
	} {
		if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
			t.Errorf("%s allocates %v times per call", tc.name, n)
		}
	}
	if got, _, _ := m.Get(ctx, "hit"); got != resp {
		t.Fatal("hit lost")
	}
}

func TestDeadlineSaturates(t *testing.T) {
	now := time.Now().UnixNano()
	for _, tc := range []struct {
		ttl  time.Duration
		want int64
	}{
		{time.Second, now + int64(time.Second)},
		{math.MaxInt64, math.MaxInt64},
		{time.Duration(math.MaxInt64 - now), math.MaxInt64},
	} {
		if got := deadline(now, tc.ttl); got != tc.want {
			t.Errorf("deadline(%d, %d) = %d, want %d", now, tc.ttl, got, tc.want)
		}
	}
}
