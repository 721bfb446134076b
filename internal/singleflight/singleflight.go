// Package singleflight suppresses duplicate concurrent calls: while a call
// for a key is in flight, later callers for the same key wait for its result
// instead of making their own call.
//
// It follows golang/groupcache/singleflight with three changes: the result
// type is generic, waiters honour their own context, and the call's
// completion is deferred, so a panicking fn releases its waiters (with
// ErrPanicked) instead of blocking them forever.
package singleflight

import (
	"context"
	"errors"
	"sync"
)

// ErrPanicked is returned to the waiters of a call whose fn panicked or
// exited with runtime.Goexit. The caller that ran fn sees the panic itself.
var ErrPanicked = errors.New("singleflight: call panicked")

// call is one flight. done is made by the first waiter (under Group.mu),
// so a flight nobody waits for costs one allocation; it is closed when val
// and err are final.
type call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// Group is a set of flights keyed by string. The zero value is ready to use;
// a Group is safe for concurrent use and must not be copied after first use.
type Group[V any] struct {
	mu sync.Mutex
	m  map[string]*call[V]
}

// Do runs fn once for key among concurrent callers and returns its result.
// shared reports whether the result came from another caller's flight.
// A waiter whose ctx ends first returns ctx.Err(); the flight goes on. fn
// runs on the first caller's goroutine; a flight costs one allocation
// (two when someone waits for it).
func (g *Group[V]) Do(ctx context.Context, key string, fn func() (V, error)) (v V, err error, shared bool) {
	g.mu.Lock()
	if c, ok := g.m[key]; ok {
		if c.done == nil {
			c.done = make(chan struct{})
		}
		done := c.done
		g.mu.Unlock()
		return wait(ctx, c, done)
	}
	if g.m == nil {
		g.m = make(map[string]*call[V])
	}
	c := &call[V]{err: ErrPanicked}
	g.m[key] = c
	g.mu.Unlock()
	defer g.finish(key, c)
	c.val, c.err = fn()
	return c.val, c.err, false
}

// finish forgets the flight and releases its waiters; it runs deferred, so
// it also runs when fn panics (c.err is then still ErrPanicked).
func (g *Group[V]) finish(key string, c *call[V]) {
	g.mu.Lock()
	delete(g.m, key)
	done := c.done
	g.mu.Unlock()
	if done != nil {
		close(done)
	}
}

func wait[V any](ctx context.Context, c *call[V], done <-chan struct{}) (v V, err error, shared bool) {
	select {
	case <-done:
		return c.val, c.err, true
	case <-ctx.Done():
		return v, ctx.Err(), true
	}
}
