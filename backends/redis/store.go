package redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
)

// Store is a tiercache.Store on Redis: byte values under the keys of this
// package's key scheme, each with a millisecond expiry (SET ... PX). Pair
// it with a codec through codec.NewManager, or use New, which does that.
//
// A Store is safe for concurrent use. Each call is one command, one round
// trip to the server (in a cluster, to the master of the key's slot), plus
// go-redis's retries of network errors within Config.Timeout; a call takes
// no lock. See Config.Timeout for how timeouts apply.
type Store struct {
	c        *caller
	prefix   string
	maxValue int
	closed   atomic.Bool
}

var _ tiercache.Store = (*Store)(nil)

// Errors of calls after Close, built once.
var (
	errClosedGet    = fmt.Errorf("redis: get: %w", tiercache.ErrClosed)
	errClosedSet    = fmt.Errorf("redis: set: %w", tiercache.ErrClosed)
	errClosedDelete = fmt.Errorf("redis: delete: %w", tiercache.ErrClosed)
)

// NewStore returns a Store for cfg. It does not connect: an unreachable
// server shows up as errors from the calls. It returns an error wrapping
// tiercache.ErrInvalid for an invalid Config.
func NewStore(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{
		c:        newCaller(cfg.Client, cfg.Timeout, cfg.Logger, "store"),
		prefix:   cfg.Prefix,
		maxValue: cfg.MaxValueBytes,
	}, nil
}

// ItemKey returns the Redis key under which key is stored, to find an
// entry with redis-cli. It does no I/O.
func (s *Store) ItemKey(key string) string { return itemKey(s.prefix, key) }

// Get returns the bytes stored under key, or (nil, nil) on a miss. The
// caller owns the returned slice (it is the one go-redis read the reply
// into). A server failure or timeout is an error wrapping ErrUnavailable,
// ErrTimeout or ErrServer.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if s.closed.Load() {
		return nil, errClosedGet
	}
	v, err := s.get(ctx, s.ItemKey(key))
	switch {
	case err == nil:
		s.c.ok()
		return v, nil
	case errors.Is(err, goredis.Nil):
		s.c.ok()
		return nil, nil
	}
	return nil, s.c.fail(ctx, "get", err)
}

// get runs the GET of ik. The direct path is spelled out, without a
// closure, so that a hit allocates only what go-redis does plus the
// timeout's context.
func (s *Store) get(ctx context.Context, ik string) ([]byte, error) {
	if s.c.detached {
		return s.getDetached(ctx, ik)
	}
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	return s.c.client.Get(ctx, ik).Bytes()
}

func (s *Store) getDetached(ctx context.Context, ik string) ([]byte, error) {
	return call(s.c, ctx, func(ctx context.Context) ([]byte, error) { return s.c.client.Get(ctx, ik).Bytes() })
}

// Set stores value under key for ttl, rounded up to whole milliseconds
// (SET key value PX ms): the server drops it when ttl has passed, by its
// own clock, and it is never stored without expiry. A ttl <= 0 deletes key
// instead, so that no older value survives. A value over
// Config.MaxValueBytes is refused with an error wrapping
// tiercache.ErrTooLarge before anything is sent, leaving the previous
// entry in place. Set does not modify value; on a client without
// ContextTimeoutEnabled a Set abandoned at the timeout may still read it
// until the abandoned command ends (the tiercache.Store contract lets a
// Store keep value; codec.NewManager never reuses it).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	if s.closed.Load() {
		return errClosedSet
	}
	if len(value) > s.maxValue {
		return fmt.Errorf("redis: set: %w: %d bytes, limit %d (MaxValueBytes)", tiercache.ErrTooLarge, len(value), s.maxValue)
	}
	ik, px := s.ItemKey(key), expiry(ttl)
	err := s.c.run(ctx, func(ctx context.Context) error { return s.c.client.Set(ctx, ik, value, px).Err() })
	if err != nil {
		return s.c.fail(ctx, "set", err)
	}
	s.c.ok()
	return nil
}

// expiry rounds ttl (> 0) up to whole milliseconds, at least one, so that
// go-redis sends it as PX and never truncates it to less than asked.
func expiry(ttl time.Duration) time.Duration {
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	return max(ms, 1) * time.Millisecond
}

// Delete removes key (UNLINK: the server frees a large value in the
// background); deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if s.closed.Load() {
		return errClosedDelete
	}
	ik := s.ItemKey(key)
	err := s.c.run(ctx, func(ctx context.Context) error { return s.c.client.Unlink(ctx, ik).Err() })
	if err != nil {
		return s.c.fail(ctx, "delete", err)
	}
	s.c.ok()
	return nil
}

// Close marks the Store closed: later calls return an error wrapping
// tiercache.ErrClosed. It does not close the client, which is the
// caller's, and does not wait for calls in progress (each ends within
// Config.Timeout). Close is idempotent.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// Stats returns the Store's counters (the codec fields are zero; see
// Manager.Stats). It does not allocate.
func (s *Store) Stats() Stats {
	return Stats{
		Errors:     s.c.errors.Load(),
		Timeouts:   s.c.timeouts.Load(),
		Losses:     s.c.losses.Load(),
		Recoveries: s.c.recoveries.Load(),
		Panics:     s.c.panics.Load(),
	}
}
