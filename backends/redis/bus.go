package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// Defaults of BusConfig.
const (
	// DefaultChannel is the pub/sub channel when BusConfig.Channel is "".
	DefaultChannel = "tiercache:invalidate"
	// DefaultHealthCheck is the idle time after which a subscription sends
	// a PING; no reply within another DefaultHealthCheck counts as lost.
	DefaultHealthCheck = time.Second
	// minBackoff and maxBackoff bound the wait between attempts to
	// re-subscribe, doubling from one to the other.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// BusConfig configures NewBus. Zero values mean the documented defaults;
// only Client is required.
type BusConfig struct {
	// Client is the go-redis client; it stays the caller's (Close does not
	// close it). Each subscription holds one connection of its own.
	Client goredis.UniversalClient
	// Channel is the pub/sub channel (default DefaultChannel). Every
	// process whose stacks share an authority tier must use the same one;
	// use one per Prefix when several caches share a server.
	Channel string
	// Timeout bounds each Publish (default DefaultTimeout), as
	// Config.Timeout does for the Store.
	Timeout time.Duration
	// HealthCheck is the idle time after which a subscription checks its
	// connection with a PING (default DefaultHealthCheck). A connection
	// that dies silently (no reset, as behind a dead NAT) is noticed
	// within about twice HealthCheck; a closed or reset one at once.
	HealthCheck time.Duration
	// OnError, when set, is called with every error of the bus's own
	// goroutines: a lost subscription, an undecodable message, a panic of
	// a subscriber (wrapping tiercache.ErrPanic). It runs on the
	// subscription's goroutine and should return quickly.
	OnError func(err error)
	// Logger, when set, receives a warning when a subscription is lost and
	// an info message when it is back, at most one per 10 s.
	Logger *slog.Logger
}

// Bus is a tiercache.Bus on Redis pub/sub: Publish is one PUBLISH on
// Channel and each subscription is a SUBSCRIBE on a connection of its own,
// read by one goroutine that delivers messages in order and re-subscribes
// with backoff after a loss. It works on a standalone server, through
// Sentinel and on a Cluster (where PUBLISH reaches the subscribers on
// every node).
//
// Delivery follows Redis pub/sub: at most once, and only to subscriptions
// that are up; in publishing order on one server, in no set order on a
// Cluster (each PUBLISH may enter at another node). Invalidations need no
// order: each one only deletes. Messages
// published while a subscription is down are lost to it; the subscriber
// learns of the loss through Down (see tiercache.WithBusMaxAge for how a
// Layered bounds the harm). A Bus is safe for concurrent use.
type Bus struct {
	c           *caller
	channel     string
	healthCheck time.Duration
	onError     func(error)
	log         *ratelog.Logger

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool

	published, received, corrupt atomic.Uint64
	losses, recoveries, panics   atomic.Uint64
}

var _ tiercache.Bus = (*Bus)(nil)

// BusStats is a snapshot of a Bus's counters.
type BusStats struct {
	// Publishes counts messages published; PublishErrors failed publishes.
	Publishes, PublishErrors uint64
	// Received counts messages delivered to subscribers; Corrupt messages
	// that failed to decode and were skipped.
	Received, Corrupt uint64
	// Losses counts lost subscriptions (or failed first attempts),
	// Recoveries re-established ones; Panics panics recovered from
	// subscribers.
	Losses, Recoveries, Panics uint64
	// Subscriptions is the number of open subscriptions, Up the number of
	// them currently subscribed.
	Subscriptions, Up int64
}

// NewBus returns a Bus for cfg. It does not connect. It returns an error
// wrapping tiercache.ErrInvalid for an invalid BusConfig.
func NewBus(cfg BusConfig) (*Bus, error) {
	if isNil(cfg.Client) {
		return nil, fmt.Errorf("redis: bus: %w: no Client", tiercache.ErrInvalid)
	}
	if cfg.Timeout < 0 || cfg.HealthCheck < 0 {
		return nil, fmt.Errorf("redis: bus: %w: negative Timeout or HealthCheck", tiercache.ErrInvalid)
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HealthCheck == 0 {
		cfg.HealthCheck = DefaultHealthCheck
	}
	return &Bus{
		c:           newCaller(cfg.Client, cfg.Timeout, cfg.Logger, "bus"),
		channel:     cfg.Channel,
		healthCheck: cfg.HealthCheck,
		onError:     cfg.OnError,
		log:         ratelog.New(cfg.Logger, 0),
		subs:        make(map[*subscription]struct{}),
	}, nil
}

// Publish sends m with one PUBLISH, within BusConfig.Timeout. It returns
// when the server has queued m to its subscribers; an error wraps
// ErrUnavailable, ErrTimeout or ErrServer (tiercache.ErrInvalid for an
// Origin over 255 bytes, tiercache.ErrClosed after Close). It costs one
// round trip and one allocation for the payload.
func (b *Bus) Publish(ctx context.Context, m tiercache.BusMessage) error {
	if b.isClosed() {
		return fmt.Errorf("redis: publish: %w", tiercache.ErrClosed)
	}
	p, err := appendMessage(make([]byte, 0, wireFixedSize+len(m.Origin)+len(m.Kind)+len(m.Key)+len(m.Data)), m)
	if err != nil {
		return err
	}
	err = b.c.run(ctx, func(ctx context.Context) error { return b.c.client.Publish(ctx, b.channel, p).Err() })
	if err != nil {
		return b.c.fail(ctx, "publish", err)
	}
	b.c.ok()
	b.published.Add(1)
	return nil
}

// Subscribe starts a subscription delivering to s on a goroutine of its
// own and returns at once; s.Up is called once the server has confirmed
// the SUBSCRIBE. Close the returned Closer to stop it.
func (b *Bus) Subscribe(s tiercache.BusSubscriber) (io.Closer, error) {
	if s == nil {
		return nil, fmt.Errorf("redis: subscribe: %w: nil subscriber", tiercache.ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("redis: subscribe: %w", tiercache.ErrClosed)
	}
	sub := newSubscription(b, s)
	b.subs[sub] = struct{}{}
	go sub.run()
	return sub, nil
}

// Close closes every subscription (waiting for their goroutines to exit)
// and makes later Publish and Subscribe calls fail with
// tiercache.ErrClosed. It does not close the client. Close is idempotent;
// it must not be called from a subscriber's method.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.closed = true
	subs := make([]*subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Close()
	}
	return nil
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Stats returns a snapshot of the counters. It takes the Bus's lock
// briefly to count the subscriptions.
func (b *Bus) Stats() BusStats {
	st := BusStats{
		Publishes:     b.published.Load(),
		PublishErrors: b.c.errors.Load(),
		Received:      b.received.Load(),
		Corrupt:       b.corrupt.Load(),
		Losses:        b.losses.Load(),
		Recoveries:    b.recoveries.Load(),
		Panics:        b.panics.Load() + b.c.panics.Load(),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st.Subscriptions = int64(len(b.subs))
	for s := range b.subs {
		if s.up.Load() {
			st.Up++
		}
	}
	return st
}

// report passes an error of a bus goroutine to BusConfig.OnError.
func (b *Bus) report(err error) {
	if b.onError != nil {
		b.onError(err)
	}
}
