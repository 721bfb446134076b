package redis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/internal/redistest"
	"github.com/tiercache/tiercache/internal/testlog"
	"github.com/tiercache/tiercache/tiercachetest"
)

// modes are the ways calls run: in the caller's goroutine (client with
// ContextTimeoutEnabled) under a deadline-only context (no retries) or a
// timer (go-redis's default retries), and detached.
var modes = []struct {
	name   string
	client func(tb testing.TB, addr string) *goredis.Client
}{
	{"direct", func(tb testing.TB, addr string) *goredis.Client { return newClient(tb, addr, true) }},
	{"direct-timer", func(tb testing.TB, addr string) *goredis.Client {
		return newClientWith(tb, &goredis.Options{Addr: addr, ContextTimeoutEnabled: true, DialerRetries: 1})
	}},
	{"detached", func(tb testing.TB, addr string) *goredis.Client { return newClient(tb, addr, false) }},
}

// TestDeadServerErrorsAndRecovers: calls on a killed server error with
// ErrUnavailable (never hang), and the same Manager works again once the
// server is back. The loss and the recovery are logged and counted.
func TestDeadServerErrorsAndRecovers(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := redistest.Start(t)
			logs := &testlog.Buffer{}
			m := newManager(t, mode.client(t, srv.Addr), func(c *Config) {
				c.Timeout, c.Logger = 500*time.Millisecond, logs.Logger()
			})
			want := tiercachetest.Response("v", 100)
			tiercachetest.MustPut(t, m, "k", want, ttl(time.Hour))
			srv.Kill()
			calls := map[string]func() error{
				"get":    func() error { _, _, err := m.Get(bg, "k"); return err },
				"put":    func() error { _, err := m.Put(bg, "k", want, ttl(time.Hour)); return err },
				"delete": func() error { return m.Delete(bg, "k") },
			}
			for op, call := range calls {
				if err := within(t, op, call); !errors.Is(err, ErrUnavailable) {
					t.Fatalf("%s on a dead server = %v, want ErrUnavailable", op, err)
				}
			}
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			if err := within(t, "put after restart", calls["put"]); err != nil {
				t.Fatalf("Put after the server restarted: %v", err)
			}
			tiercachetest.MustGet(t, m, "k", want)
			st := m.Stats()
			if st.Errors != 3 || st.Losses != 1 || st.Recoveries != 1 {
				t.Fatalf("Stats = %+v, want 3 errors, 1 loss, 1 recovery", st)
			}
			for _, msg := range []string{"level=WARN msg=\"redis: server unreachable\"", "level=INFO msg=\"redis: server reachable again\""} {
				if !strings.Contains(logs.String(), msg) {
					t.Errorf("log %q lacks %s", logs.String(), msg)
				}
			}
		})
	}
}

// TestHungServerTimesOut: a server that accepts but never answers (paused
// with SIGSTOP) gives ErrTimeout, in both modes, instead of a hang.
func TestHungServerTimesOut(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := redistest.Start(t)
			m := newManager(t, mode.client(t, srv.Addr), func(c *Config) { c.Timeout = 200 * time.Millisecond })
			want := tiercachetest.Response("v", 100)
			tiercachetest.MustPut(t, m, "k", want, ttl(time.Hour))
			if err := srv.Pause(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Resume() })
			err := within(t, "get", func() error { _, _, err := m.Get(bg, "k"); return err })
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("Get on a hung server = %v, want ErrTimeout", err)
			}
			err = within(t, "put", func() error { _, err := m.Put(bg, "k2", want, ttl(time.Hour)); return err })
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("Put on a hung server = %v, want ErrTimeout", err)
			}
			if st := m.Stats(); st.Timeouts != 2 || st.Losses != 1 {
				t.Fatalf("Stats = %+v, want 2 timeouts, 1 loss", st)
			}
			if err := srv.Resume(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a Get after Resume", func() bool {
				got, _, err := m.Get(bg, "k")
				return err == nil && tiercachetest.Equal(got, want)
			})
		})
	}
}

func TestCallerContextIsNotAServerError(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := redistest.Start(t)
			m := newManager(t, mode.client(t, srv.Addr), nil)
			ctx, cancel := context.WithCancel(bg)
			cancel()
			if _, _, err := m.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Get with a cancelled context = %v, want context.Canceled", err)
			}
			if st := m.Stats(); st.Errors != 0 || st.Losses != 0 {
				t.Fatalf("Stats = %+v: a cancelled call counted against the server", st)
			}
		})
	}
}

// TestLayeredFailsOpen: `lru > redis` keeps answering Gets without errors
// while the server is dead: front hits from the LRU, misses for the rest;
// the tier errors reach the hook.
func TestLayeredFailsOpen(t *testing.T) {
	srv := redistest.Start(t)
	shared := newManager(t, newClient(t, srv.Addr, true), func(c *Config) { c.Timeout = 500 * time.Millisecond })
	front, err := lru.New(lru.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = front.Close() })
	var mu sync.Mutex
	var hooked []error
	l := tiercache.NewLayered([]tiercache.Manager{front, shared}, tiercache.WithErrorHook(func(_ int, _, _ string, err error) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, err)
	}))
	t.Cleanup(func() { _ = l.Close() })
	want := tiercachetest.Response("v", 100)
	tiercachetest.MustPut(t, l, "cached", want, ttl(time.Hour))
	srv.Kill()
	within(t, "front hit", func() bool { tiercachetest.MustGet(t, l, "cached", want); return true })
	within(t, "miss", func() bool { tiercachetest.MustGet(t, l, "absent", nil); return true })
	mu.Lock()
	if len(hooked) != 1 || !errors.Is(hooked[0], ErrUnavailable) {
		t.Errorf("hook got %v, want one error wrapping ErrUnavailable", hooked)
	}
	mu.Unlock()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	tiercachetest.MustPut(t, l, "after", want, ttl(time.Hour))
}

// TestDeadServerDefaultClient: with go-redis's default dial retries a call
// to a dead server lasts until Timeout; it still errors, never hangs.
func TestDeadServerDefaultClient(t *testing.T) {
	srv := redistest.Start(t)
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = client.Close() })
	m := newManager(t, client, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	srv.Kill()
	err := within(t, "get", func() error { _, _, err := m.Get(bg, "k"); return err })
	if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("Get on a dead server = %v, want ErrUnavailable or ErrTimeout", err)
	}
}
