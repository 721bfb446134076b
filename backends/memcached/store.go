package memcached

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
)

// Item flags (memcached's opaque 32-bit field) mark what an item holds.
const (
	flagValue    = 0          // the whole value
	flagManifest = 0x74630001 // "tc" 1: a chunk manifest (see chunk.go)
	flagChunk    = 0x74630002 // "tc" 2: one chunk of a large value
)

// Store is a tiercache.Store on memcached: byte values under string keys,
// with the key scheme of this package (long or odd keys hashed), expiry from
// the ttl and large values split into chunks. Pair it with a codec through
// codec.NewManager, or use New, which does that.
//
// A Store is safe for concurrent use. Each call costs one network round trip
// per item involved (a chunked value costs one per chunk on Set, and on Get
// one GetMulti per 16 chunks, spread over the servers in parallel) and takes
// a shared read lock that only Close contends for.
//
// Contexts: gomemcache has no context support. Every call checks ctx before
// it starts. A Get whose ctx deadline is earlier than Config.Timeout runs
// in a goroutine and returns at the deadline; the abandoned request ends by
// itself within Timeout. Set and Delete, and a Get under a context that is
// only cancelled (no earlier deadline), run in the caller's goroutine and
// notice the end of ctx only between round trips, each bounded by
// Config.Timeout; a chunked Set stops before writing its manifest, leaving
// the previous entry. Writes never go on in the background after their call
// returned, because a late write could bring back an older value.
type Store struct {
	client       *memcache.Client
	prefix       string
	timeout      time.Duration
	chunkSize    int // largest value stored as one item
	maxValueSize int
	chunking     bool
	onError      func(key string, err error)

	mu     sync.RWMutex // read-held by every call; Close takes it to drain them
	closed bool
}

var _ tiercache.Store = (*Store)(nil)

// NewStore returns a Store for cfg. It resolves the server addresses but
// does not connect: a dead server shows up as errors from the calls. It
// returns an error wrapping tiercache.ErrInvalid for an invalid Config.
func NewStore(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ss := new(memcache.ServerList)
	if err := ss.SetServers(cfg.Servers...); err != nil {
		return nil, fmt.Errorf("memcached: %w: servers %q: %v", tiercache.ErrInvalid, cfg.Servers, err)
	}
	c := memcache.NewFromSelector(ss)
	c.Timeout = cfg.Timeout
	c.MaxIdleConns = cfg.MaxIdleConns
	return &Store{
		client:       c,
		prefix:       cfg.Prefix,
		timeout:      cfg.Timeout,
		chunkSize:    cfg.MaxItemSize - itemOverhead,
		maxValueSize: cfg.MaxValueSize,
		chunking:     !cfg.DisableChunking,
		onError:      cfg.OnError,
	}, nil
}

// ItemKey returns the memcached key under which key is stored, to find an
// entry with memcached-tool or another client. It does no I/O.
func (s *Store) ItemKey(key string) string { return itemKey(s.prefix, key) }

// Get returns the bytes stored under key, or (nil, nil) on a miss. The
// caller owns the returned slice. A chunked value is returned whole or not
// at all: a missing chunk is a miss, and a damaged entry (bad manifest,
// checksum mismatch, unknown item flags) is a miss that is deleted and
// reported to Config.OnError with an error wrapping tiercache.ErrCorrupt.
// A server error or timeout is returned as an error.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memcached: get: %w", err)
	}
	if !s.acquire() {
		return nil, fmt.Errorf("memcached: get: %w", tiercache.ErrClosed)
	}
	ik := s.ItemKey(key)
	if !s.detach(ctx) {
		defer s.mu.RUnlock()
		return s.load(ctx, key, ik)
	}
	type result struct {
		v   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer s.mu.RUnlock()           // handed over from this call
		v, err := s.load(ctx, key, ik) // stops between chunk batches once ctx ends
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("memcached: get: %w", ctx.Err())
	}
}

// load reads ik and resolves manifests; damaged entries become misses.
func (s *Store) load(ctx context.Context, key, ik string) ([]byte, error) {
	var it *memcache.Item
	err := s.retry(func() (err error) { it, err = s.client.Get(ik); return err })
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("memcached: get: %w", err)
	}
	switch it.Flags {
	case flagValue:
		return it.Value, nil
	case flagManifest:
		return s.loadChunks(ctx, key, it)
	}
	s.discard(key, it, nil, fmt.Errorf("memcached: %w: unknown item flags %#x", tiercache.ErrCorrupt, it.Flags))
	return nil, nil
}

// Set stores value under key for ttl. A ttl <= 0 deletes key instead, so
// that no older value survives (memcached would read 0 as "forever"). Values
// larger than the item size limit are chunked, or refused with an error
// wrapping tiercache.ErrTooLarge when chunking is disabled; values above
// Config.MaxValueSize are always refused. A refused value leaves the
// previous entry in place. A server that refuses an item as too large (its
// -I is below Config.MaxItemSize) gives an error wrapping
// tiercache.ErrTooLarge. Overwriting a chunked value leaves its old chunks
// to expire or be evicted. The Store keeps no reference to value after Set
// returns.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached: set: %w", err)
	}
	if !s.acquire() {
		return fmt.Errorf("memcached: set: %w", tiercache.ErrClosed)
	}
	defer s.mu.RUnlock()
	if err := s.checkSize(len(value)); err != nil {
		return err
	}
	exp := expiration(ttl, time.Now())
	ik := s.ItemKey(key)
	if len(value) > s.chunkSize {
		return s.storeChunks(ctx, ik, value, exp)
	}
	return s.put(&memcache.Item{Key: ik, Value: value, Flags: flagValue, Expiration: exp})
}

// checkSize refuses values that may not be stored.
func (s *Store) checkSize(n int) error {
	switch {
	case n > s.maxValueSize:
		return fmt.Errorf("memcached: set: %w: %d bytes, limit %d (MaxValueSize)", tiercache.ErrTooLarge, n, s.maxValueSize)
	case n > s.chunkSize && !s.chunking:
		return fmt.Errorf("memcached: set: %w: %d bytes, item limit %d and chunking disabled", tiercache.ErrTooLarge, n, s.chunkSize)
	}
	return nil
}

// put writes one item.
func (s *Store) put(it *memcache.Item) error {
	err := s.retry(func() error { return s.client.Set(it) })
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "object too large"): // SERVER_ERROR object too large for cache
		return fmt.Errorf("memcached: set: %w: server refused a %d-byte item (is Config.MaxItemSize above the server's -I?): %w",
			tiercache.ErrTooLarge, len(it.Value), err)
	}
	return fmt.Errorf("memcached: set: %w", err)
}

// Delete removes key; deleting a missing key is not an error. The chunks of
// a chunked value are not read back and deleted: they are unreachable and
// leave memcached by expiry or LRU eviction.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached: delete: %w", err)
	}
	if !s.acquire() {
		return fmt.Errorf("memcached: delete: %w", tiercache.ErrClosed)
	}
	defer s.mu.RUnlock()
	if err := s.remove(s.ItemKey(key)); err != nil {
		return fmt.Errorf("memcached: delete: %w", err)
	}
	return nil
}

// remove deletes one item; a missing item is not an error.
func (s *Store) remove(ik string) error {
	err := s.retry(func() error { return s.client.Delete(ik) })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return err
}

// Close marks the Store closed, waits for calls in progress (each bounded
// by Config.Timeout per round trip) and closes the idle connections. Later
// calls return an error wrapping tiercache.ErrClosed. Close is idempotent
// and safe to call concurrently with other calls.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("memcached: close: %w", err)
	}
	return nil
}

// acquire read-locks the Store and reports whether it is open; on true the
// caller must RUnlock.
func (s *Store) acquire() bool {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return false
	}
	return true
}

// detach reports whether a Get under ctx should run in a goroutine: only
// when ctx has a deadline earlier than the socket timeout would fire.
func (s *Store) detach(ctx context.Context) bool {
	if ctx.Done() == nil {
		return false
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < s.timeout
}

// retry runs op and, when it failed on a connection the server had already
// closed (a restarted or killed server leaves such connections in the idle
// pool), drops every idle connection and runs op once more on a fresh one.
// Dial errors and timeouts are not retried, so a dead server costs one
// attempt.
func (s *Store) retry(op func() error) error {
	err := op()
	if staleConn(err) {
		_ = s.client.Close() // drops idle connections; the client stays usable
		err = op()
	}
	return err
}

// staleConn reports an error from a connection the peer has closed.
func staleConn(err error) bool {
	return err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}

// report passes a damaged entry to Config.OnError.
func (s *Store) report(key string, err error) {
	if s.onError != nil && err != nil {
		s.onError(key, err)
	}
}
