package tier

import (
	"context"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// Prefix returns a Manager that stores every key k as p+k in m, so that
// several users (services, API versions, tenants) can share one backend
// without colliding. Prefixes nest: Prefix(Prefix(m, "a/"), "b/") stores k
// as "a/b/"+k. An empty p returns a Manager that behaves like m.
//
// Put validates its arguments before prefixing (an empty key is still an
// error wrapping tiercache.ErrInvalid). Each call costs one string
// concatenation (one allocation) and one call of m. Safe for concurrent use
// when m is.
func Prefix(m tiercache.Manager, p string) tiercache.Manager {
	nilarg.Check("tier: Prefix", "m", m)
	return prefix{m: m, p: p}
}

var _ tiercache.Manager = prefix{}

type prefix struct {
	m tiercache.Manager
	p string
}

// Get returns what the wrapped Manager holds under the prefixed key. The
// empty key is a miss: it must not read the bare prefix, another user's key.
func (x prefix) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	if key == "" {
		return nil, nil, nil
	}
	return x.m.Get(ctx, x.p+key)
}

// Put stores resp under the prefixed key and returns resp.
func (x prefix) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	return x.m.Put(ctx, x.p+key, resp, pol)
}

// Delete removes the prefixed key. Deleting the empty key does nothing (it
// cannot have been stored).
func (x prefix) Delete(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	return x.m.Delete(ctx, x.p+key)
}
