package memcached

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// Helpers of the cluster tests: a cache-aside load that runs while a test
// kills, restarts and adds servers, with counts kept per phase.

// phaseCounts are the outcomes of the calls that started in one phase.
type phaseCounts struct {
	gets, hits, errs atomic.Int64
	mu               sync.Mutex
	firstErr         error
}

func (p *phaseCounts) fail(err error) {
	p.errs.Add(1)
	p.mu.Lock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.mu.Unlock()
}

func (p *phaseCounts) String() string {
	return fmt.Sprintf("%d gets, %.1f%% hits, %d errors (first: %v)", p.gets.Load(), 100*p.hitRatio(), p.errs.Load(), p.firstErr)
}

func (p *phaseCounts) hitRatio() float64 {
	if g := p.gets.Load(); g > 0 {
		return float64(p.hits.Load()) / float64(g)
	}
	return 0
}

// load runs workers goroutines of cache-aside traffic (Get, and Put on a
// miss) over keys until stop. Each call is counted in the phase that was
// current when it started.
type load struct {
	m      *Manager
	keys   []string
	phases []*phaseCounts
	phase  atomic.Int32
	seen   []atomic.Int32 // per worker: the phase of its current call
	done   atomic.Int64   // calls completed
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startLoad(t *testing.T, m *Manager, keys []string, workers, phases int) *load {
	t.Helper()
	l := &load{m: m, keys: keys, stop: make(chan struct{})}
	for range phases {
		l.phases = append(l.phases, &phaseCounts{})
	}
	l.seen = make([]atomic.Int32, workers)
	for w := range workers {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		l.wg.Go(func() { l.run(rng, &l.seen[w]) })
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) run(rng *rand.Rand, seen *atomic.Int32) {
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		key := l.keys[rng.IntN(len(l.keys))]
		ph := l.phase.Load()
		seen.Store(ph)
		p := l.phases[ph]
		got, _, err := l.m.Get(bg, key)
		p.gets.Add(1)
		switch {
		case err != nil:
			p.fail(err)
		case got != nil:
			if got.Header.Get("X-Seed") != key {
				p.fail(fmt.Errorf("Get(%s) returned the value of %s", key, got.Header.Get("X-Seed")))
			}
			p.hits.Add(1)
		default:
			if _, err := l.m.Put(bg, key, tiercachetest.Response(key, 100), ttl(time.Hour)); err != nil {
				p.fail(err)
			}
		}
		l.done.Add(1)
	}
}

// next moves to the next phase and waits until every worker has finished
// its calls of the previous one.
func (l *load) next(t *testing.T) {
	t.Helper()
	ph := l.phase.Add(1)
	waitFor(t, "the end of the previous phase's calls", func() bool {
		for i := range l.seen {
			if l.seen[i].Load() != ph {
				return false
			}
		}
		return true
	})
}

// settle waits until at least n more calls have completed, so that a phase
// has some traffic. It fails the test when the load stalls.
func (l *load) settle(t *testing.T, n int64) {
	t.Helper()
	target := l.done.Load() + n
	waitFor(t, fmt.Sprintf("%d calls of load", n), func() bool { return l.done.Load() >= target })
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitFor polls cond every 10ms until it holds, failing the test after
// hangGuard.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > hangGuard {
			t.Fatalf("%s: not after %v", what, hangGuard)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// serverState returns the state of the server at addr in m's Stats.
func serverState(t *testing.T, m *Manager, addr string) ServerStats {
	t.Helper()
	for _, s := range m.Stats().Servers {
		if s.Server == addr {
			return s
		}
	}
	t.Fatalf("server %s not in Stats", addr)
	return ServerStats{}
}

// newClusterManager starts n memcached servers and returns a Manager over
// them, closed at the end of the test.
func newClusterManager(t *testing.T, n int, edit func(*Config)) (*Manager, []*memcachedtest.Server) {
	t.Helper()
	servers := memcachedtest.StartN(t, n, memcachedtest.Options{})
	m := newManagerOn(t, servers[0].Addr, func(c *Config) {
		c.Servers = memcachedtest.Addrs(servers)
		if edit != nil {
			edit(c)
		}
	})
	return m, servers
}

// fill Puts every key and fails the test on an error.
func fill(t *testing.T, m *Manager, keys []string) {
	t.Helper()
	for _, k := range keys {
		tiercachetest.MustPut(t, m, k, tiercachetest.Response(k, 100), ttl(time.Hour))
	}
}

// readAll Gets every key once (no refill) and returns the hit ratio; an
// error fails the test.
func readAll(t *testing.T, m *Manager, keys []string) float64 {
	t.Helper()
	hits := 0
	for _, k := range keys {
		got, _, err := m.Get(bg, k)
		if err != nil {
			t.Fatalf("Get(%s): %v", k, err)
		}
		if got != nil {
			hits++
		}
	}
	return float64(hits) / float64(len(keys))
}

// shareOf returns the fraction of keys whose item keys m places on addr
// first.
func shareOf(m *Manager, keys []string, addr string) float64 {
	n := 0
	for _, k := range keys {
		var r replicas
		if err := m.store.c.pick(m.store.ItemKey(k), 1, &r); err == nil && r.list[0].spec.name == addr {
			n++
		}
	}
	return float64(n) / float64(len(keys))
}
