package memcached

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestKillOneServerUnderLoad kills one of three servers under a concurrent
// cache-aside load, then restarts it: after the ejection window callers see
// no errors (within it, only calls that were on the dead server's
// connections when it died may fail: at most EjectAfter plus one per
// concurrent caller; a refused dial is retried on the next server), the hit ratio drops by at most the dead server's share of the
// keys (about nothing with 2 replicas), and the restarted server rejoins.
func TestKillOneServerUnderLoad(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			const retry = time.Second
			m, servers := newClusterManager(t, 3, func(c *Config) { c.Replicas, c.RetryAfter = replicas, retry })
			keys := testKeys(600)
			fill(t, m, keys)
			victim := servers[1]
			share := shareOf(m, keys, victim.Addr)

			const before, window, ejected, rejoining = 0, 1, 2, 3
			const workers = 4
			l := startLoad(t, m, keys, workers, 4)
			l.settle(t, 1000)
			l.next(t) // calls that start from now on may meet the dead server
			killed := time.Now()
			victim.Kill()
			waitFor(t, "ejection", func() bool { return serverState(t, m, victim.Addr).State == ServerEjected })
			ejectedAfter := time.Since(killed)
			l.next(t)
			l.settle(t, 2000)
			l.next(t)
			victim.Restart()
			rejoin := waitFor(t, "rejoin", func() bool { return serverState(t, m, victim.Addr).State == ServerLive })
			l.settle(t, 1000)
			l.halt()

			p := l.phases
			for i, name := range []string{"before", "ejection window", "ejected", "restarted"} {
				t.Logf("%-16s %v", name+":", p[i])
			}
			t.Logf("victim's share %.1f%%; ejected %v after the kill; rejoined %v after its restart (RetryAfter %v)",
				100*share, ejectedAfter.Round(time.Millisecond), rejoin.Round(time.Millisecond), retry)
			for _, ph := range []int{before, ejected, rejoining} {
				if n := p[ph].errs.Load(); n != 0 {
					t.Errorf("phase %d: %d caller errors, want 0 (first: %v)", ph, n, p[ph].firstErr)
				}
			}
			if n := p[window].errs.Load(); n > DefaultEjectAfter+workers {
				t.Errorf("ejection window: %d caller errors, want at most %d (first: %v)", n, DefaultEjectAfter+workers, p[window].firstErr)
			} else if n > 0 && !strings.Contains(fmt.Sprint(p[window].firstErr), victim.Addr) {
				t.Errorf("ejection window: an error not from the dead server: %v", p[window].firstErr)
			}
			maxDrop := share + 0.02
			if replicas > 1 {
				maxDrop = 0.01
			}
			if drop := p[before].hitRatio() - p[ejected].hitRatio(); drop > maxDrop {
				t.Errorf("hit ratio dropped by %.1f points after the ejection, want at most %.1f", 100*drop, 100*maxDrop)
			}
			st := serverState(t, m, victim.Addr)
			if st.Ejections != 1 || st.Rejoins != 1 {
				t.Errorf("victim stats: %d ejections, %d rejoins; want 1 and 1", st.Ejections, st.Rejoins)
			}
		})
	}
}

// TestEjectionHitRatio reads every key once after a server died and was
// ejected: with one replica exactly the keys of the survivors hit, with two
// every key does.
func TestEjectionHitRatio(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			m, servers := newClusterManager(t, 3, func(c *Config) { c.Replicas, c.RetryAfter = replicas, time.Hour })
			keys := testKeys(900)
			fill(t, m, keys)
			victim := servers[2]
			share := shareOf(m, keys, victim.Addr)
			victim.Kill()
			for i := 0; serverState(t, m, victim.Addr).State != ServerEjected; i++ {
				_ = m.Delete(bg, keys[i%len(keys)]+"-absent") // fails on the victim's keys
				if i > 10_000 {
					t.Fatal("victim not ejected")
				}
			}
			st := serverState(t, m, victim.Addr)
			if st.Failures < DefaultEjectAfter || st.Errors != uint64(st.Failures) {
				t.Errorf("victim: %d consecutive failures, %d errors at ejection; want %d", st.Failures, st.Errors, DefaultEjectAfter)
			}
			got := readAll(t, m, keys) // no error may reach the caller now
			want := 1 - share
			if replicas > 1 {
				want = 1
			}
			t.Logf("victim's share %.1f%%: hit ratio after ejection %.1f%% (want %.1f%%)", 100*share, 100*got, 100*want)
			if math.Abs(got-want) > 1e-9 {
				t.Fatalf("hit ratio after ejection %.4f, want %.4f", got, want)
			}
		})
	}
}

// TestSetServersUnderLoad adds a fourth server and then removes one of the
// first three while a load runs: no caller sees an error.
func TestSetServersUnderLoad(t *testing.T) {
	servers := memcachedtest.StartN(t, 4, memcachedtest.Options{})
	addrs := memcachedtest.Addrs(servers)
	m := newManagerOn(t, addrs[0], func(c *Config) { c.Servers = addrs[:3] })
	keys := testKeys(600)
	fill(t, m, keys)
	l := startLoad(t, m, keys, 4, 3)
	l.settle(t, 1000)
	l.next(t)
	kept := serverState(t, m, addrs[0])
	if err := m.SetServers(addrs...); err != nil {
		t.Fatal(err)
	}
	if st := serverState(t, m, addrs[0]); st.Gets < kept.Gets {
		t.Errorf("a server kept by SetServers lost its counters: %d gets, had %d", st.Gets, kept.Gets)
	}
	l.settle(t, 2000)
	l.next(t)
	if err := m.SetServers(addrs[0], addrs[1], addrs[3]); err != nil {
		t.Fatal(err)
	}
	l.settle(t, 1000)
	l.halt()
	for i, name := range []string{"3 servers", "4 servers", "3 of them"} {
		t.Logf("%-10s %v", name+":", l.phases[i])
		if n := l.phases[i].errs.Load(); n != 0 {
			t.Errorf("%s: %d caller errors, want 0 (first: %v)", name, n, l.phases[i].firstErr)
		}
	}
	st := m.Stats()
	if len(st.Servers) != 3 || st.Servers[2].Server != addrs[3] || st.Servers[2].Gets == 0 {
		t.Fatalf("Stats after SetServers: %+v; want 3 servers, the added one with traffic", st.Servers)
	}
}

// TestSetServersMovedKeys measures, on real servers, the keys that miss
// after the list changes: 3 -> 4 servers loses exactly the keys the new
// server takes (consistent hashing moves no other), which is near 25% (it
// depends on the random ports: 15% to 34% in 3,000 simulated port draws,
// hence the loose bounds), and removing one of 4 loses exactly that
// server's keys.
func TestSetServersMovedKeys(t *testing.T) {
	servers := memcachedtest.StartN(t, 4, memcachedtest.Options{})
	addrs := memcachedtest.Addrs(servers)
	keys := testKeys(2000)

	m := newManagerOn(t, addrs[0], func(c *Config) { c.Servers, c.Prefix = addrs[:3], "grow:" })
	fill(t, m, keys)
	mustDo(t, m.SetServers(addrs...))
	moved := 1 - readAll(t, m, keys)
	taken := shareOf(m, keys, addrs[3])
	t.Logf("3 -> 4 servers: %.1f%% of keys moved, the new server took %.1f%% (ideal 25%%)", 100*moved, 100*taken)
	if math.Abs(moved-taken) > 1e-9 || moved > 0.40 || moved < 0.10 {
		t.Errorf("3 -> 4 servers moved %.4f of the keys, want exactly the new server's share %.4f, near 0.25", moved, taken)
	}

	m2 := newManagerOn(t, addrs[0], func(c *Config) { c.Servers, c.Prefix = addrs, "shrink:" })
	fill(t, m2, keys)
	share := shareOf(m2, keys, addrs[1])
	mustDo(t, m2.SetServers(addrs[0], addrs[2], addrs[3]))
	lost := 1 - readAll(t, m2, keys)
	t.Logf("4 -> 3 servers: %.1f%% of keys moved, the removed server held %.1f%%", 100*lost, 100*share)
	if math.Abs(lost-share) > 1e-9 {
		t.Errorf("removing a server lost %.4f of the keys, want exactly its share %.4f", lost, share)
	}
}

// TestHungServerEjectedWithShortDeadlines pauses a server (it accepts
// connections and never answers) while every caller has a deadline
// shorter than Config.Timeout: the calls cut short make the monitor probe
// it, the failed probes eject it, and then its keys miss instead of
// timing out. Resumed, it rejoins.
func TestHungServerEjectedWithShortDeadlines(t *testing.T) {
	m, servers := newClusterManager(t, 3, func(c *Config) { c.Timeout, c.RetryAfter = 300*time.Millisecond, time.Second })
	victim := servers[0]
	var key string
	for _, k := range testKeys(100) {
		if shareOf(m, []string{k}, victim.Addr) == 1 {
			key = k
			break
		}
	}
	victim.Pause()
	var deadlineErrs int
	waitFor(t, "ejection of the hung server", func() bool {
		ctx, cancel := contextWithTimeout(50 * time.Millisecond)
		defer cancel()
		if _, _, err := m.Get(ctx, key); err != nil {
			deadlineErrs++
		}
		return serverState(t, m, victim.Addr).State == ServerEjected
	})
	st := serverState(t, m, victim.Addr)
	t.Logf("ejected after %d calls cut short; %d probes, %d failed", deadlineErrs, st.Probes, st.ProbeErrors)
	if st.ProbeErrors < 1 {
		t.Errorf("hung server ejected with %d failed probes, want at least 1", st.ProbeErrors)
	}
	ctx, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	if got, _, err := m.Get(ctx, key); err != nil || got != nil {
		t.Fatalf("Get after ejection = %v, %v; want a miss", got != nil, err)
	}
	victim.Resume()
	waitFor(t, "rejoin", func() bool { return serverState(t, m, victim.Addr).State == ServerLive })
}

// TestChunkedValueWholeAcrossEjection checks that a chunked value is read
// whole or not at all while its server is cut off, replaced and back: the
// chunks always come from the server that holds the manifest.
func TestChunkedValueWholeAcrossEjection(t *testing.T) {
	m, servers := newClusterManager(t, 3, func(c *Config) {
		c.MaxItemSize, c.Timeout, c.RetryAfter = 16<<10, 300*time.Millisecond, 500*time.Millisecond
	})
	const key = "big"
	var victim *memcachedtest.Server
	for _, s := range servers {
		if shareOf(m, []string{key}, s.Addr) == 1 {
			victim = s
		}
	}
	v0, v1 := tiercachetest.Response("v0", 100<<10), tiercachetest.Response("v1", 90<<10)
	tiercachetest.MustPut(t, m, key, v0, ttl(time.Hour))

	victim.Pause() // a partition: the server keeps v0
	waitFor(t, "ejection", func() bool {
		got, _, err := m.Get(bg, key)
		if err == nil && got != nil && !tiercachetest.Equal(got, v0) {
			t.Fatal("read a value that was never written")
		}
		return serverState(t, m, victim.Addr).State == ServerEjected
	})
	tiercachetest.MustGet(t, m, key, nil) // the next server has nothing
	tiercachetest.MustPut(t, m, key, v1, ttl(time.Hour))
	tiercachetest.MustGet(t, m, key, v1)

	victim.Resume()
	waitFor(t, "rejoin", func() bool { return serverState(t, m, victim.Addr).State == ServerLive })
	// Back from a partition, the server serves what it held: v0, whole
	// (documented: a partitioned server can return older values).
	tiercachetest.MustGet(t, m, key, v0)

	victim.Kill()
	waitFor(t, "second ejection", func() bool {
		_, _, _ = m.Get(bg, key)
		return serverState(t, m, victim.Addr).State == ServerEjected
	})
	tiercachetest.MustGet(t, m, key, v1) // v1's chunks are on the next server
}

// TestReplicas checks where replicas go: a Put writes 2 distinct servers,
// a Delete removes the key from both, and a Put that fails on one replica
// returns an error while the other holds the new value.
func TestReplicas(t *testing.T) {
	m, servers := newClusterManager(t, 3, func(c *Config) { c.Replicas, c.RetryAfter = 2, time.Hour })
	holders := func(key string) []string {
		var on []string
		for _, s := range servers {
			if _, err := raw(s.Addr).Get(m.Store().ItemKey(key)); err == nil {
				on = append(on, s.Addr)
			} else if !errors.Is(err, memcache.ErrCacheMiss) && !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("raw get on %s: %v", s.Addr, err)
			}
		}
		return on
	}
	want := tiercachetest.Response("r", 100)
	for i := range 20 {
		key := fmt.Sprint("rep", i)
		tiercachetest.MustPut(t, m, key, want, ttl(time.Hour))
		if on := holders(key); len(on) != 2 {
			t.Fatalf("key %s on %q, want 2 servers", key, on)
		}
		mustDo(t, m.Delete(bg, key))
		if on := holders(key); len(on) != 0 {
			t.Fatalf("key %s still on %q after Delete", key, on)
		}
	}

	// The second replica refuses connections (crashed): the Put goes to the
	// next server instead, where the key lives once it is ejected.
	var r replicas
	mustDo(t, m.store.c.pick(m.Store().ItemKey("crash"), 2, &r))
	second := r.list[1].spec.name
	for _, s := range servers {
		if s.Addr == second {
			s.Kill()
		}
	}
	tiercachetest.MustPut(t, m, "crash", want, ttl(time.Hour))
	if on := holders("crash"); len(on) != 2 || on[0] == second || on[1] == second {
		t.Fatalf("with %s refusing, key on %q; want the 2 others", second, on)
	}
}

// TestReplicaHalfFailedPut: a replica that times out (hung, not crashed)
// fails the Put with an error naming it; the other replica holds the new
// value and readers that reach it see it.
func TestReplicaHalfFailedPut(t *testing.T) {
	m, servers := newClusterManager(t, 3, func(c *Config) { c.Replicas, c.Timeout, c.RetryAfter = 2, 200*time.Millisecond, time.Hour })
	var r replicas
	mustDo(t, m.store.c.pick(m.Store().ItemKey("half"), 2, &r))
	second := r.list[1].spec.name
	for _, s := range servers {
		if s.Addr == second {
			s.Pause()
		}
	}
	want := tiercachetest.Response("half", 100)
	_, err := m.Put(bg, "half", want, ttl(time.Hour))
	if err == nil || !strings.Contains(err.Error(), second) {
		t.Fatalf("Put with a hung replica: %v; want an error naming %s", err, second)
	}
	t.Logf("half-failed Put: %v", err)
	tiercachetest.MustGet(t, m, "half", want) // the first replica took it
}
