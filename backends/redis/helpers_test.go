package redis

import (
	"context"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/redistest"
)

// hangGuard bounds every call a test makes against a server that may be
// dead or hung: far above any configured timeout, so that only a hang
// trips it.
const hangGuard = 10 * time.Second

// testTimeout replaces DefaultTimeout in tests: a loaded CI machine must not
// turn slow round trips into failures. Tests of timeouts set their own.
const testTimeout = 5 * time.Second

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{}) // dial errors of the kill tests are expected
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// newClient returns a go-redis client on addr with the options Config
// recommends, closed at the end of the test. aware sets
// ContextTimeoutEnabled.
func newClient(tb testing.TB, addr string, aware bool) *goredis.Client {
	tb.Helper()
	return newClientWith(tb, &goredis.Options{Addr: addr, ContextTimeoutEnabled: aware, DialerRetries: 1, MaxRetries: -1})
}

// newClientWith returns a go-redis client with opt, closed at the end of
// the test.
func newClientWith(tb testing.TB, opt *goredis.Options) *goredis.Client {
	tb.Helper()
	c := goredis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newClusterClient returns a cluster client on the nodes of c.
func newClusterClient(tb testing.TB, c *redistest.Cluster) *goredis.ClusterClient {
	tb.Helper()
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// newManager returns a Manager on client, closed at the end of the test.
// edit may change the Config (Client and Timeout are preset).
func newManager(tb testing.TB, client goredis.UniversalClient, edit func(*Config)) *Manager {
	tb.Helper()
	cfg := Config{Client: client, Timeout: testTimeout}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

// within runs fn and fails the test if it does not return within hangGuard.
func within[T any](t *testing.T, what string, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("%s hung for %v", what, hangGuard)
		var zero T
		return zero
	}
}

// waitFor polls cond until it holds or hangGuard passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", hangGuard, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ttl returns a fresh policy kept for d.
func ttl(d time.Duration) *tiercache.Policy { return tiercache.NewTTLPolicy(d) }

var bg = context.Background()
