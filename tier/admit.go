package tier

import (
	"context"
	"fmt"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// AdmitFunc decides whether a Put may store resp under key in a tier. It is
// called with valid arguments (non-empty key, non-nil resp and pol), must not
// modify them, and must be safe for concurrent use.
type AdmitFunc func(key string, resp *tiercache.Response, pol *tiercache.Policy) bool

// Admit returns a Manager whose Put stores in m only what admit accepts; a
// nil admit accepts everything.
//
// A rejected Put returns (resp, nil) without storing resp, but it removes any
// older value under key from m: after a Put has returned, the tier never
// serves a value older than the one the caller just wrote (it misses
// instead, and a tiercache.Layered stack reads the next tier). If that
// removal fails, Put returns resp and the Delete's error.
//
// Get and Delete pass through. Put costs one call of admit and one call of
// m (Put when admitted, Delete when rejected). Safe for concurrent use when m
// and admit are.
func Admit(m tiercache.Manager, admit AdmitFunc) tiercache.Manager {
	nilarg.Check("tier: Admit", "m", m)
	if admit == nil {
		admit = func(string, *tiercache.Response, *tiercache.Policy) bool { return true }
	}
	return admission{m: m, admit: admit}
}

// MaxBodySize returns an AdmitFunc that admits responses whose body holds at
// most n bytes, e.g. MaxBodySize(64<<10) keeps large bodies out of a small
// in-process front tier. n < 0 is treated as 0 (only empty bodies).
func MaxBodySize(n int) AdmitFunc {
	n = max(n, 0)
	return func(_ string, resp *tiercache.Response, _ *tiercache.Policy) bool { return len(resp.Body) <= n }
}

var _ tiercache.Manager = admission{}

type admission struct {
	m     tiercache.Manager
	admit AdmitFunc
}

// Get returns what the wrapped Manager holds under key.
func (a admission) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return a.m.Get(ctx, key)
}

// Put stores resp when the admission function accepts it and otherwise
// removes any older value under key; it returns resp.
func (a admission) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if a.admit(key, resp, pol) {
		return a.m.Put(ctx, key, resp, pol)
	}
	if err := a.m.Delete(ctx, key); err != nil {
		return resp, fmt.Errorf("tier: admit: removing older value of rejected %s: %w", keyfmt.Quote(key), err)
	}
	return resp, nil
}

// Delete removes key.
func (a admission) Delete(ctx context.Context, key string) error {
	return a.m.Delete(ctx, key)
}
