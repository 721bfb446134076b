package tier_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
)

// panicky is a Manager that panics in every call while on is set, and
// otherwise behaves like the fake it wraps.
type panicky struct {
	*fakeManager
	on atomic.Bool
}

const tierPanic = "tier panicked"

func (p *panicky) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	if p.on.Load() {
		panic(tierPanic)
	}
	return p.fakeManager.Get(ctx, key)
}

func (p *panicky) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if p.on.Load() {
		panic(tierPanic)
	}
	return p.fakeManager.Put(ctx, key, resp, pol)
}

func (p *panicky) Delete(ctx context.Context, key string) error {
	if p.on.Load() {
		panic(tierPanic)
	}
	return p.fakeManager.Delete(ctx, key)
}

// TestTimeoutPanicReachesCaller: a panic of the wrapped Manager surfaces in
// the caller's goroutine, as it would without Timeout, instead of crashing
// the process from the goroutine Timeout runs the call in. A write that
// panicked does not hold up later writes of its key.
func TestTimeoutPanicReachesCaller(t *testing.T) {
	for _, op := range []string{"get", "put", "delete"} {
		t.Run(op, func(t *testing.T) {
			p := &panicky{fakeManager: newFake()}
			p.on.Store(true)
			m := tier.Timeout(p, time.Hour)
			var got any
			returnsWithin(t, op, func() {
				defer func() { got = recover() }()
				_ = call(context.Background(), m, op, "k")
			})
			if got != tierPanic {
				t.Fatalf("%s: recovered %v, want the tier's panic %q", op, got, tierPanic)
			}
			p.on.Store(false)
			var err error
			returnsWithin(t, "the next "+op, func() { err = call(context.Background(), m, op, "k") })
			if err != nil {
				t.Fatalf("%s after the panic: %v", op, err)
			}
		})
	}
}
