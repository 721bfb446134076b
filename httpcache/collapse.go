package httpcache

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// flights tracks the requests that went to the origin for a missing key,
// so that concurrent misses on the key wait for the first one (the leader)
// instead of all going to the origin.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one leader's request; done is closed when its response has
// been stored or is known not to be.
type flight struct {
	done    chan struct{}
	start   time.Time
	once    sync.Once
	waiters atomic.Int32 // followers waiting (observability for tests)
}

// join returns the flight for key and whether the caller leads it. A
// flight older than bound is taken over, so a leader whose caller never
// finishes its body blocks nobody for longer than bound.
func (f *flights) join(key string, bound time.Duration) (*flight, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if fl, ok := f.m[key]; ok && now.Sub(fl.start) < bound {
		return fl, false
	}
	if f.m == nil {
		f.m = make(map[string]*flight)
	}
	fl := &flight{done: make(chan struct{}), start: now}
	f.m[key] = fl
	return fl, true
}

// finish ends fl and releases its followers; it is idempotent.
func (f *flights) finish(key string, fl *flight) {
	fl.once.Do(func() {
		f.mu.Lock()
		if f.m[key] == fl {
			delete(f.m, key)
		}
		f.mu.Unlock()
		close(fl.done)
	})
}

// collapsible reports whether the call may wait for another request's
// response: a plain GET that accepts a stored response.
func (c *call) collapsible() bool {
	return c.t.opts.collapse && !c.head && !c.dirs.NoCache && !c.dirs.NoStore && len(c.req.Header["Range"]) == 0 &&
		!(c.dirs.HasMaxAge && c.dirs.MaxAge == 0) &&
		(c.mode == ModeDefault || c.mode == ModeForceCache || c.mode == ModeIgnoreRules)
}

// miss handles a request with no usable stored response. The first of
// concurrent collapsible misses on a key goes to the origin; the others wait
// (at most the collapse timeout) for its response to be stored and serve
// it, or go to the origin themselves when it was not stored.
func (c *call) miss(fwd string) (*http.Response, error) {
	st := status{fwd: fwd, outcome: outMiss}
	if !c.collapsible() {
		return c.fetch(st, nil, nil)
	}
	fl, leader := c.t.flights.join(c.key, c.t.opts.collapseTimeout)
	if leader {
		return c.fetch(st, nil, func() { c.t.flights.finish(c.key, fl) })
	}
	fl.waiters.Add(1)
	timer := time.NewTimer(c.t.opts.collapseTimeout)
	defer timer.Stop()
	select {
	case <-fl.done:
	case <-timer.C:
		return c.fetch(st, nil, nil)
	case <-c.req.Context().Done():
		return nil, c.req.Context().Err()
	}
	c.now = c.t.opts.now()
	if e, _ := c.lookup(); e != nil {
		if act, _ := c.decide(e); act == actFresh || act == actStale {
			return c.serve(e, status{fwd: fwd, collapsed: true, outcome: outCollapsed}, c.now), nil
		}
	}
	return c.fetch(st, nil, nil)
}
