package memcached

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
)

// Failover. A server is live or ejected:
//
//   - Every call that reaches a server ends as an answer (a hit, a miss,
//     NOT_STORED, even an error line: the server is up), a failure of the
//     server (refused or reset connection, timeout, connection closed
//     mid-reply; see serverDown), or cut short by the caller's context.
//   - Config.EjectAfter consecutive failures eject the server: it leaves the
//     ring, and its keys go to the next live server on the ring. The call
//     whose failure ejected it (or that failed on a server found ejected
//     meanwhile), and any call refused by a server, is retried on the key's
//     next server (Store.failover).
//   - An ejected server is probed ("version") by the monitor goroutine
//     Config.RetryAfter after its ejection, then every RetryAfter until a
//     probe succeeds, which brings it back.
//   - A server ejected again less than MaxRetryAfter after it came back is
//     flapping: its delay doubles at each such ejection, up to MaxRetryAfter
//     (or RetryAfter when that is larger). An ejection after a longer healthy
//     spell starts again at RetryAfter.
//   - A call cut short by its context says nothing about the server (the
//     caller gave up), but the server may be hung: it asks the monitor to
//     probe the server with the full Timeout, and a failed probe counts as a
//     failure. So a hung server is ejected even when every caller's deadline
//     is shorter than Config.Timeout.
//   - When every server is ejected, calls go to the key's own servers anyway
//     (there is nothing to fail over to) and a success brings one back.

// MaxRetryAfter caps the exponential backoff of a flapping server.
const MaxRetryAfter = time.Minute

// ServerState is a server's state in Stats, a gauge.
type ServerState int64

// Server states.
const (
	ServerLive    ServerState = 0 // in the ring
	ServerEjected ServerState = 1 // out of the ring until a probe succeeds
)

// String returns "live" or "ejected".
func (s ServerState) String() string {
	if s == ServerEjected {
		return "ejected"
	}
	return "live"
}

// health is a server's failure accounting. The atomics are read on every
// call; the mutex guards the rest, used only on state changes.
type health struct {
	failures atomic.Int32 // consecutive failures
	ejected  atomic.Bool
	suspect  atomic.Bool // a call was cut short by its context: probe it
	probing  atomic.Bool

	hmu      sync.Mutex
	retryAt  time.Time     // next probe of an ejected server
	delay    time.Duration // current retry delay
	rejoined time.Time     // last time it came back
}

// record accounts for the outcome err of a call to s under ctx.
// fallback says the call went to s although it was ejected.
func (c *cluster) record(ctx context.Context, s *server, fallback bool, err error) {
	switch {
	case answered(err):
		c.succeeded(s, fallback)
	case ctxDone(ctx) != nil:
		if !s.suspect.Swap(true) {
			c.poke()
		}
	case serverDown(err):
		s.errors.Add(1)
		c.failed(s, err)
	default: // an error line: the server is up
		s.errors.Add(1)
		c.succeeded(s, fallback)
	}
}

// succeeded resets s's failure count. It costs one atomic load when there
// is nothing to reset.
func (c *cluster) succeeded(s *server, fallback bool) {
	if s.failures.Load() != 0 {
		s.failures.Store(0)
	}
	if fallback && s.ejected.Load() {
		c.rejoin(s, "served a request")
	}
}

// failed counts a failure of s and ejects it at Config.EjectAfter.
func (c *cluster) failed(s *server, err error) {
	n := s.failures.Add(1)
	if c.cfg.EjectAfter < 0 || int(n) < c.cfg.EjectAfter || s.ejected.Load() || c.top.Load().sel != nil {
		return
	}
	now := time.Now()
	s.hmu.Lock()
	if s.ejected.Load() {
		s.hmu.Unlock()
		return
	}
	maxDelay := max(MaxRetryAfter, c.cfg.RetryAfter)
	if !s.rejoined.IsZero() && now.Sub(s.rejoined) < maxDelay {
		s.delay = min(2*s.delay, maxDelay) // flapping
	} else {
		s.delay = c.cfg.RetryAfter
	}
	s.retryAt = now.Add(s.delay)
	delay := s.delay
	s.ejected.Store(true)
	s.hmu.Unlock()
	s.ejections.Add(1)
	c.log.Warn(s.spec.name+"|eject", "memcached: server ejected", slog.String("server", s.spec.name),
		slog.Int("failures", int(n)), slog.Duration("retry_in", delay), slog.Any("error", err))
	c.poke()
}

// rejoin brings an ejected server back into the ring.
func (c *cluster) rejoin(s *server, why string) {
	s.hmu.Lock()
	if !s.ejected.Load() {
		s.hmu.Unlock()
		return
	}
	s.rejoined = time.Now()
	s.failures.Store(0)
	s.ejected.Store(false)
	s.hmu.Unlock()
	s.rejoins.Add(1)
	c.log.Info(s.spec.name+"|rejoin", "memcached: server rejoined", slog.String("server", s.spec.name),
		slog.String("after", why))
}

// poke wakes the monitor.
func (c *cluster) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// monitor probes ejected servers when their retry time comes and suspect
// servers at once, until close. A panic is reported (see recoverPanic) and
// the loop starts again.
func (c *cluster) monitor() {
	defer c.wg.Done()
	for c.monitorLoop() {
	}
}

// monitorLoop runs the monitor until close (false) or a panic (true).
func (c *cluster) monitorLoop() (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			c.reportPanic("monitor", r)
			panicked = c.closeCtx.Err() == nil
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if next := c.startProbes(time.Now()); !next.IsZero() {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
		select {
		case <-c.closeCtx.Done():
			return false
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// startProbes starts the probes that are due and returns the time of the
// next one (zero when none is scheduled).
func (c *cluster) startProbes(now time.Time) time.Time {
	var next time.Time
	for _, s := range c.top.Load().servers {
		due := s.suspect.Load()
		if s.ejected.Load() {
			s.hmu.Lock()
			at := s.retryAt
			s.hmu.Unlock()
			if at.After(now) {
				if next.IsZero() || at.Before(next) {
					next = at
				}
			} else {
				due = true
			}
		}
		if due && !s.probing.Swap(true) {
			c.wg.Add(1)
			go c.probe(s)
		}
	}
	return next
}

// probe sends "version" to s and applies the outcome.
func (c *cluster) probe(s *server) {
	defer c.wg.Done()
	defer c.poke() // reschedule
	defer s.probing.Store(false)
	defer c.recoverPanic("probe " + s.spec.name)
	s.suspect.Store(false)
	err := s.do(c.closeCtx, (*memcache.Client).Ping)
	s.probes.Add(1)
	if c.closeCtx.Err() != nil {
		return
	}
	if err == nil {
		if s.ejected.Load() {
			c.rejoin(s, "a successful probe")
		} else {
			c.succeeded(s, false)
		}
		return
	}
	s.probeErrors.Add(1)
	if !s.ejected.Load() {
		c.failed(s, err)
		return
	}
	s.hmu.Lock()
	s.retryAt = time.Now().Add(s.delay)
	delay := s.delay
	s.hmu.Unlock()
	c.log.Warn(s.spec.name+"|probe", "memcached: probe failed", slog.String("server", s.spec.name),
		slog.Duration("retry_in", delay), slog.Any("error", err))
}

// recoverPanic, deferred, turns a panic in a goroutine of the cluster into
// a report (see reportPanic).
func (c *cluster) recoverPanic(where string) {
	if r := recover(); r != nil {
		c.reportPanic(where, r)
	}
}

// reportPanic reports the panic value r as an error wrapping
// tiercache.ErrPanic to Config.OnError (with an empty key) and logs it.
// A hook or logger that panics again is not called again for that panic.
func (c *cluster) reportPanic(where string, r any) {
	err := fmt.Errorf("memcached: %s: %w: %v", where, tiercache.ErrPanic, r)
	if c.cfg.OnError != nil {
		safely(func() { c.cfg.OnError("", err) })
	}
	safely(func() { c.log.Warn("panic|"+where, err.Error()) })
}

// safely runs f and swallows its panic.
func safely(f func()) {
	defer func() { _ = recover() }()
	f()
}
