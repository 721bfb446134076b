package tier

import (
	"context"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// ReadOnly returns a Manager that reads from m and never writes to it: Put
// validates its arguments (an error wraps tiercache.ErrInvalid) and returns
// resp without storing it, and Delete does nothing and returns nil.
//
// Use it for a warm shared tier that other processes fill and this process
// must not write. Because this process's writes do not reach m, m may keep
// serving a value older than one this process has just written or deleted;
// put ReadOnly tiers below a tier this process does write, and rely on m's
// own retention (KeepFor) to expire old values.
//
// Get costs one call of m.Get; Put and Delete cost no I/O and do not
// allocate. Safe for concurrent use when m is.
func ReadOnly(m tiercache.Manager) tiercache.Manager {
	nilarg.Check("tier: ReadOnly", "m", m)
	return readOnly{m: m}
}

var _ tiercache.Manager = readOnly{}

type readOnly struct{ m tiercache.Manager }

// Get returns what the wrapped Manager holds under key.
func (r readOnly) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return r.m.Get(ctx, key)
}

// Put validates its arguments and returns resp without storing it.
func (r readOnly) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	return resp, nil
}

// Delete does nothing and returns nil.
func (r readOnly) Delete(context.Context, string) error { return nil }
