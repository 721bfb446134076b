package memcached

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestKilledServerThenRestart(t *testing.T) {
	m, srv := newTestManager(t, nil) // a killed server refuses at once: no timeout needed
	want := tiercachetest.Response("k", 100)
	for i := range 4 { // fill the idle pool with several connections
		tiercachetest.MustPut(t, m, fmt.Sprint("k", i), want, ttl(time.Hour))
	}
	srv.Kill()
	ops := map[string]func() error{
		"Get":    func() error { _, _, err := m.Get(bg, "k0"); return err },
		"Put":    func() error { _, err := m.Put(bg, "k0", want, ttl(time.Hour)); return err },
		"Delete": func() error { return m.Delete(bg, "k0") },
	}
	for name, op := range ops {
		if err := within(t, name+" on a killed server", op); err == nil {
			t.Errorf("%s on a killed server: no error", name)
		}
	}
	srv.Restart()
	// The same Manager recovers at once: stale pooled connections are
	// dropped and the call retried on a fresh one.
	for i := range 4 {
		key := fmt.Sprint("k", i)
		if err := within(t, "Get after restart", func() error {
			got, _, err := m.Get(bg, key)
			if got != nil {
				return errors.New("restarted server returned an old value")
			}
			return err
		}); err != nil {
			t.Fatalf("Get(%s) after restart: %v", key, err)
		}
	}
	tiercachetest.MustPut(t, m, "k0", want, ttl(time.Hour))
	tiercachetest.MustGet(t, m, "k0", want)

	// A restart between two calls is invisible: the idle connections to the
	// old process are dropped on first use and the call is retried.
	fillPool(t, m, 8)
	srv.Kill()
	srv.Restart()
	for i := range 8 {
		if err := within(t, "Get after a quick restart", func() error { _, _, err := m.Get(bg, "k0"); return err }); err != nil {
			t.Fatalf("Get %d after a quick restart: %v", i, err)
		}
	}
}

// fillPool leaves about n idle connections in m's pool.
func fillPool(t *testing.T, m *Manager, n int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range n {
		wg.Go(func() {
			<-start
			_, _ = m.Put(bg, fmt.Sprint("fill", g), tiercachetest.Response("f", 64<<10), ttl(time.Hour))
		})
	}
	close(start)
	wg.Wait()
}

func TestUnreachable(t *testing.T) {
	hung := hungServer(t)
	tests := []struct {
		name string
		addr string
	}{
		{"refused", "127.0.0.1:1"},
		{"accepts but never answers", hung},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const timeout = 200 * time.Millisecond
			m := newManagerOn(t, tc.addr, func(c *Config) { c.Timeout = timeout })
			start := time.Now()
			err := within(t, "Get", func() error { _, _, err := m.Get(bg, "k"); return err })
			if err == nil {
				t.Fatal("Get on an unreachable server: no error")
			}
			// Bounded by the timeout; the generous margin is for slow CI.
			if d := time.Since(start); d > timeout+2*time.Second {
				t.Errorf("Get took %v with a %v timeout", d, timeout)
			}
			if err := within(t, "Put", func() error {
				_, err := m.Put(bg, "k", tiercachetest.Response("k", 10), ttl(time.Hour))
				return err
			}); err == nil {
				t.Error("Put on an unreachable server: no error")
			}
		})
	}
}

// TestContextDeadline checks that a Get returns at its context's deadline
// when that comes before the socket timeout.
func TestContextDeadline(t *testing.T) {
	m := newManagerOn(t, hungServer(t), func(c *Config) { c.Timeout = time.Second })
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := within(t, "Get", func() error { _, _, err := m.Get(ctx, "k"); return err })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("Get returned after %v, deadline was 50ms and timeout 1s", d)
	}
	if err := within(t, "Close", m.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// hungServer listens on loopback, accepts connections and never answers.
func hungServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestCorruptBytes(t *testing.T) {
	tests := []struct {
		name string
		item memcache.Item
	}{
		{"garbage", memcache.Item{Value: []byte("not an entry")}},
		{"empty", memcache.Item{Value: []byte{}}},
		{"unknown flags", memcache.Item{Value: []byte("x"), Flags: 7}},
		{"bad manifest", memcache.Item{Value: []byte("tcMC1"), Flags: flagManifest}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log errorLog
			m, srv := newTestManager(t, func(c *Config) { c.OnError = log.add })
			c := raw(srv.Addr)
			key := "bad key " + tc.name // hashed: exercises ItemKey
			it := tc.item
			it.Key = m.Store().ItemKey(key)
			mustDo(t, c.Set(&it))
			tiercachetest.MustGet(t, m, key, nil)
			keys, errs := log.snapshot()
			if len(errs) != 1 || keys[0] != key || !errors.Is(errs[0], tiercache.ErrCorrupt) {
				t.Fatalf("OnError reports %q %v, want one ErrCorrupt for %q", keys, errs, key)
			}
			if _, err := c.Get(it.Key); !errors.Is(err, memcache.ErrCacheMiss) {
				t.Fatalf("corrupt item not deleted: %v", err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	m, _ := newTestManager(t, func(c *Config) { c.MaxItemSize = 16 << 10 })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				key := fmt.Sprintf("k%d", i%7)
				want := tiercachetest.Response(key, 100+(i%3)*20<<10) // some chunked
				if _, err := m.Put(bg, key, want, ttl(time.Hour)); err != nil {
					errs <- err
					return
				}
				got, _, err := m.Get(bg, key)
				if err != nil || (got != nil && got.Header.Get("X-Seed") != key) {
					errs <- fmt.Errorf("goroutine %d: Get(%s) = %v, %v", g, key, got != nil, err)
					return
				}
				if i%5 == 0 {
					if err := m.Delete(bg, key); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseWhileInUse(t *testing.T) {
	m, _ := newTestManager(t, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				_, err := m.Put(bg, fmt.Sprint(g, i), tiercachetest.Response("c", 100), ttl(time.Hour))
				if err != nil && !errors.Is(err, tiercache.ErrClosed) {
					t.Errorf("Put during Close: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	if err := within(t, "Close", m.Close); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
