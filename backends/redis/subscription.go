package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
)

// subscription is one SUBSCRIBE and the goroutine that reads it.
//
// The goroutine runs sessions until the subscription is closed. A session
// opens a PubSub connection, sends SUBSCRIBE and reads: the server's
// confirmation makes the subscription up (BusSubscriber.Up), messages are
// delivered in order, and a read that waits HealthCheck sends a PING whose
// reply must come within another HealthCheck. Any error ends the session:
// the subscriber is told Down once per outage (also when the first session
// fails), and the next session starts after a backoff doubling from 50 ms
// to 2 s. Messages published between the loss and the next confirmation
// are not delivered: that is Redis pub/sub.
type subscription struct {
	b      *Bus
	s      tiercache.BusSubscriber
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	up     atomic.Bool
	// wasLost: lost since the last Up; used by the goroutine only.
	wasLost bool

	mu      sync.Mutex
	ps      *goredis.PubSub // the session's, closed by Close to end a blocked read
	closing bool
	once    sync.Once
}

func newSubscription(b *Bus, s tiercache.BusSubscriber) *subscription {
	ctx, cancel := context.WithCancel(context.Background())
	return &subscription{b: b, s: s, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// run is the subscription's goroutine.
func (sub *subscription) run() {
	defer close(sub.done)
	backoff := minBackoff
	told := false // Down was called for the current outage
	for sub.ctx.Err() == nil {
		wasUp, err := sub.session()
		if sub.ctx.Err() != nil {
			return
		}
		if wasUp {
			backoff, told = minBackoff, false
		}
		if !told {
			sub.lost(err)
			told = true
		}
		select {
		case <-sub.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session runs one PubSub connection until it fails; wasUp reports whether
// the server confirmed the subscription.
func (sub *subscription) session() (wasUp bool, err error) {
	defer func() {
		if v := recover(); v != nil { // go-redis itself; subscribers are guarded in safely
			sub.b.panics.Add(1)
			err = fmt.Errorf("%w: redis bus session: %v", tiercache.ErrPanic, v)
		}
	}()
	ps := sub.b.c.client.Subscribe(sub.ctx)
	if !sub.setPubSub(ps) {
		return false, sub.ctx.Err()
	}
	defer sub.setPubSub(nil)
	if err := ps.Subscribe(sub.ctx, sub.b.channel); err != nil {
		return false, err
	}
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(sub.ctx, sub.b.healthCheck)
		switch {
		case err == nil:
		case sub.ctx.Err() != nil:
			return wasUp, sub.ctx.Err()
		case !isTimeout(err):
			return wasUp, err
		case pinged:
			return wasUp, fmt.Errorf("%w: no reply to PING within %v", ErrTimeout, sub.b.healthCheck)
		default:
			if err := ps.Ping(sub.ctx); err != nil {
				return wasUp, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" && m.Channel == sub.b.channel && !wasUp {
				wasUp = true
				sub.markUp()
			}
		case *goredis.Message:
			sub.deliver(m.Payload)
		}
	}
}

// setPubSub records the session's PubSub (nil: closes the current one).
// It reports false, closing ps, when the subscription is closing.
func (sub *subscription) setPubSub(ps *goredis.PubSub) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ps != nil {
		_ = sub.ps.Close()
	}
	sub.ps = ps
	if sub.closing && ps != nil {
		_ = ps.Close()
		sub.ps = nil
		return false
	}
	return true
}

// markUp tells the subscriber the subscription is up.
func (sub *subscription) markUp() {
	if sub.wasLost {
		sub.wasLost = false
		sub.b.recoveries.Add(1)
		sub.b.log.Info("subscription up", "redis: bus subscription restored", slog.String("channel", sub.b.channel))
	}
	sub.up.Store(true)
	sub.safely("Up", sub.s.Up)
}

// lost tells the subscriber and the hooks that the subscription is down.
func (sub *subscription) lost(err error) {
	sub.up.Store(false)
	sub.b.losses.Add(1)
	sub.wasLost = true
	err = fmt.Errorf("redis: bus: subscription to %q lost: %w", sub.b.channel, err)
	sub.b.log.Warn("subscription down", "redis: bus subscription lost", slog.String("channel", sub.b.channel), slog.Any("error", err))
	sub.b.report(err)
	sub.safely("Down", func() { sub.s.Down(err) })
}

// deliver decodes one payload and hands it to the subscriber.
func (sub *subscription) deliver(payload string) {
	m, err := parseMessage(payload)
	if err != nil {
		sub.b.corrupt.Add(1)
		sub.b.log.Warn("message", "redis: bus: message skipped", slog.Any("error", err))
		sub.b.report(err)
		return
	}
	sub.b.received.Add(1)
	sub.safely("Receive", func() { sub.s.Receive(m) })
}

// safely calls fn, turning a panic into a counted, reported error.
func (sub *subscription) safely(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			sub.b.panics.Add(1)
			err := fmt.Errorf("%w: redis bus subscriber %s: %v", tiercache.ErrPanic, what, v)
			sub.b.log.Warn("panic", "redis: bus: subscriber panicked", slog.Any("error", err))
			sub.b.report(err)
		}
	}()
	fn()
}

// Close stops the subscription and waits for its goroutine to exit. It
// is idempotent; it must not be called from a subscriber's method.
func (sub *subscription) Close() error {
	sub.once.Do(func() {
		sub.cancel()
		sub.mu.Lock()
		sub.closing = true
		if sub.ps != nil {
			_ = sub.ps.Close() // ends a blocked read
		}
		sub.mu.Unlock()
	})
	<-sub.done
	sub.b.mu.Lock()
	delete(sub.b.subs, sub)
	sub.b.mu.Unlock()
	return nil
}
