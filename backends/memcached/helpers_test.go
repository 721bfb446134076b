package memcached

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
)

// hangGuard bounds every call a test makes against a server that may be
// dead: far above any configured timeout, so that only a hang trips it.
const hangGuard = 10 * time.Second

// newTestManager starts a memcached and returns a Manager on it, closed at
// the end of the test. edit may change the Config (Servers is preset).
func newTestManager(t *testing.T, edit func(*Config)) (*Manager, *memcachedtest.Server) {
	t.Helper()
	srv := memcachedtest.Start(t)
	return newManagerOn(t, srv.Addr, edit), srv
}

// testTimeout replaces DefaultTimeout in tests: a loaded CI machine must not
// turn slow round trips into failures. Tests of timeouts set their own.
const testTimeout = 5 * time.Second

// newManagerOn returns a Manager on addr, closed at the end of the test.
func newManagerOn(t testing.TB, addr string, edit func(*Config)) *Manager {
	t.Helper()
	cfg := Config{Servers: []string{addr}, Timeout: testTimeout}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// raw returns a plain gomemcache client on addr.
func raw(addr string) *memcache.Client {
	c := memcache.New(addr)
	c.Timeout = testTimeout
	return c
}

// within runs fn and fails the test if it does not return within hangGuard.
func within(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("%s hung for %v", what, hangGuard)
		return nil
	}
}

// errorLog collects OnError reports.
type errorLog struct {
	mu   sync.Mutex
	keys []string
	errs []error
}

func (l *errorLog) add(key string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	l.errs = append(l.errs, err)
}

func (l *errorLog) snapshot() ([]string, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.keys...), append([]error(nil), l.errs...)
}

// ttl returns a fresh policy kept for d.
func ttl(d time.Duration) *tiercache.Policy { return tiercache.NewTTLPolicy(d) }

var bg = context.Background()

// shortKey truncates a key for test messages.
func shortKey(k string) string {
	if len(k) <= 64 {
		return k
	}
	return k[:64] + "..."
}

// contextWithTimeout is context.WithTimeout on the background context.
func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(bg, d)
}
