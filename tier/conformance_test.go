package tier_test

import (
	"context"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestConformance runs the Manager conformance suite over every decorator
// wrapping an in-memory fake.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		wrap func(t *testing.T, f *fakeManager) tiercache.Manager
	}{
		{"Timeout", func(_ *testing.T, f *fakeManager) tiercache.Manager { return tier.Timeout(f, time.Minute) }},
		{"Breaker", func(_ *testing.T, f *fakeManager) tiercache.Manager { return tier.Breaker(f) }},
		{"ReadOnly", func(_ *testing.T, f *fakeManager) tiercache.Manager { return readOnlyHarness{tier.ReadOnly(f), f} }},
		{"Prefix", func(_ *testing.T, f *fakeManager) tiercache.Manager { return tier.Prefix(f, "p/") }},
		{"Admit", func(_ *testing.T, f *fakeManager) tiercache.Manager { return tier.Admit(f, tier.MaxBodySize(1<<20)) }},
		{"WriteBack", func(t *testing.T, f *fakeManager) tiercache.Manager { return closing(t, tier.WriteBack(f)) }},
		{"WriteBackTinyQueue", func(t *testing.T, f *fakeManager) tiercache.Manager {
			return closing(t, tier.WriteBack(f, tier.WithQueueSize(1), tier.WithWorkers(1)))
		}},
		{"Stack", func(t *testing.T, f *fakeManager) tiercache.Manager {
			return closing(t, tier.WriteBack(tier.Breaker(tier.Timeout(tier.Prefix(f, "s/"), time.Minute))))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the suite's real-time waits overlap
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager { return tc.wrap(t, newFake()) })
		})
	}
}

// closing registers w.Close as a test cleanup and returns w.
func closing(t *testing.T, w *tier.WriteBackManager) *tier.WriteBackManager {
	t.Helper()
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// readOnlyHarness reads through a ReadOnly tier and writes the fake behind
// it directly, as another process would; every ReadOnly method is called.
type readOnlyHarness struct {
	ro tiercache.Manager
	f  *fakeManager
}

func (h readOnlyHarness) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return h.ro.Get(ctx, key)
}

func (h readOnlyHarness) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if _, err := h.ro.Put(ctx, key, resp, pol); err != nil {
		return nil, err
	}
	return h.f.Put(ctx, key, resp, pol)
}

func (h readOnlyHarness) Delete(ctx context.Context, key string) error {
	if err := h.ro.Delete(ctx, key); err != nil {
		return err
	}
	return h.f.Delete(ctx, key)
}
