package tiercache

import (
	"context"
	"errors"
	"io"
)

// Bus carries invalidation messages between processes that share a cache
// tier, so that what one process changes in the shared tier is dropped from
// the in-process tiers of the others. WithBus connects a Layered to one;
// backends/redis has an implementation on Redis pub/sub.
//
// A Bus is a broadcast channel: every message published by any process
// reaches every subscription in every process (the publisher's own
// included) while that subscription is up. It need not be reliable: a
// subscription that is down misses what is published meanwhile, and a
// subscriber must bound the harm of a missed message itself (Layered does,
// with WithBusMaxAge). Implementations are safe for concurrent use.
//
// Messages carry a Kind and a Key and an optional payload, so that other
// components can share one bus: a Layered acts only on BusKindKey messages
// and ignores other kinds; a purge-by-tag component, for example, can
// publish a tag's new generation as Kind "tag", Key the tag, Data the
// generation, and subscribe for its own kind.
type Bus interface {
	// Publish sends m to every subscription. It returns once the bus has
	// accepted the message (for Redis: the server has received the PUBLISH
	// and queued the message to the subscribers it knows), not when
	// subscribers have handled it. It must return within a bounded time
	// when the transport is down, with an error.
	Publish(ctx context.Context, m BusMessage) error
	// Subscribe starts delivering messages to s until the returned Closer
	// is closed. It does not wait for the subscription to be up: the bus
	// calls s.Up when messages start to flow, s.Down when the subscription
	// is lost, and keeps re-subscribing (calling s.Up again) until closed.
	// Close stops delivery and waits until no method of s is running or
	// will run; it must not be called from a method of s.
	Subscribe(s BusSubscriber) (io.Closer, error)
}

// BusSubscriber receives the messages and state changes of one subscription.
// The bus calls its methods from one goroutine at a time, in order.
type BusSubscriber interface {
	// Receive handles one message. m's fields are only valid during the
	// call (Data may be reused): copy what is kept.
	Receive(m BusMessage)
	// Up reports that the subscription is established (after Subscribe
	// and after each recovery): every message published from now on is
	// delivered until Down.
	Up()
	// Down reports that the subscription was lost, with the cause:
	// messages published from some point before this call until the next
	// Up may never be delivered.
	Down(err error)
}

// BusMessage is one message on a Bus.
type BusMessage struct {
	// Origin identifies the publisher (a Layered uses a random id per
	// instance), so that a subscriber can ignore its own messages.
	Origin string
	// Kind says what changed: BusKindKey for a cache key. Other kinds
	// belong to other components; a Layered ignores them.
	Kind string
	// Key is the cache key (or, for other kinds, the name) that changed.
	Key string
	// Data is an optional payload, such as a generation number; nil for
	// BusKindKey.
	Data []byte
}

// BusKindKey is the Kind of a message saying "the value under Key changed
// in the shared tier": a Layered publishes one after each Put and Delete
// and, on one from another publisher, drops Key from its upper tiers.
const BusKindKey = "key"

// BusTier is the tier index an ErrorHook receives for an error of the
// invalidation bus (op "publish" or "subscribe"), which belongs to no tier.
const BusTier = -1

// Operation names of bus errors passed to the ErrorHook.
const (
	opPublish    = "publish"
	opSubscribe  = "subscribe"
	opInvalidate = "invalidate"
)

// ErrBusDown reports that a Layered's subscription to its invalidation bus
// was lost: until it is back, other processes' changes do not reach this
// process's upper tiers, whose copies then live at most the max age set by
// WithBusMaxAge. The error passed to the ErrorHook wraps it and the bus's
// cause.
var ErrBusDown = errors.New("tiercache: invalidation bus subscription lost")
