package memcached

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// the ttl, large values split into chunks, and keys placed on the servers by
// a consistent-hash ring with failover (see the package documentation).
// Pair it with a codec through codec.NewManager, or use New, which does that.
//
// A Store is safe for concurrent use. A call costs one network round trip
// per item and replica involved (a chunked value costs one per chunk on Set
// and one per 16 chunks on Get), an MD5 of the item key to place it (about
// 0.1µs; none with a single server), and a shared read lock that only Close
// contends for. Replicas are written in parallel.
//
// Contexts: every call checks ctx before it starts and honours its deadline
// and cancellation during I/O: the deadline of each round trip is the
// earlier of Config.Timeout and ctx's deadline, and a cancelled ctx fails
// the pending read or write at once. A call cut short returns an error
// wrapping ctx.Err(). Nothing goes on in the background after a call
// returns, so a late write can never bring back an older value; a chunked
// Set cut short stops before its manifest, leaving the previous entry.
type Store struct {
	c            *cluster
	prefix       string
	replicas     int
	chunkSize    int // largest value stored as one item
	maxValueSize int
	chunking     bool
	onError      func(key string, err error)

	mu     sync.RWMutex // read-held by every call; Close takes it to drain them
	closed bool
}

var _ tiercache.Store = (*Store)(nil)

// NewStore returns a Store for cfg. It resolves the server addresses but
// does not connect: a dead server shows up as errors from the calls, and is
// ejected. It starts one goroutine, which probes ejected servers, stopped
// by Close. It returns an error wrapping tiercache.ErrInvalid for an invalid
// Config.
func NewStore(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := newCluster(&cfg)
	if err != nil {
		return nil, fmt.Errorf("memcached: %w: %v", tiercache.ErrInvalid, err)
	}
	return &Store{
		c:            c,
		prefix:       cfg.Prefix,
		replicas:     cfg.Replicas,
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
// caller owns the returned slice. It reads the first live replica; when
// that one fails, the next. A chunked value is returned whole or not at
// all: a missing chunk is a miss, and a damaged entry (bad manifest,
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
	defer s.mu.RUnlock()
	ik := s.ItemKey(key)
	var r replicas
	if err := s.c.pick(ik, s.replicas, &r); err != nil {
		return nil, fmt.Errorf("memcached: get: %w", err)
	}
	var err error
	for _, srv := range r.servers() {
		var v []byte
		if v, err = s.load(ctx, srv, r.fallback, key, ik); err == nil || ctxDone(ctx) != nil {
			return v, err
		}
	}
	if alt := s.failover(ctx, ik, &r, err); alt != nil {
		return s.load(ctx, alt, false, key, ik)
	}
	return nil, err
}

// load reads ik from srv and resolves manifests; damaged entries become
// misses.
func (s *Store) load(ctx context.Context, srv *server, fallback bool, key, ik string) ([]byte, error) {
	var it *memcache.Item
	err := s.call(ctx, srv, fallback, func(c *memcache.Client) (err error) { it, err = c.Get(ik); return err })
	srv.gets.Add(1)
	switch {
	case errors.Is(err, memcache.ErrCacheMiss):
		srv.misses.Add(1)
		return nil, nil
	case err != nil:
		return nil, s.opError(ctx, "get", srv, err)
	}
	var v []byte
	switch it.Flags {
	case flagValue:
		v = it.Value
	case flagManifest:
		if v, err = s.loadChunks(ctx, srv, fallback, key, it); err != nil {
			return nil, err
		}
	default:
		s.discard(ctx, srv, fallback, key, it, fmt.Errorf("memcached: %w: unknown item flags %#x", tiercache.ErrCorrupt, it.Flags))
	}
	if v == nil {
		srv.misses.Add(1)
		return nil, nil
	}
	srv.hits.Add(1)
	return v, nil
}

// Set stores value under key for ttl on each replica. A ttl <= 0 deletes
// key instead, so that no older value survives (memcached would read 0 as
// "forever"). Values larger than the item size limit are chunked, or
// refused with an error wrapping tiercache.ErrTooLarge when chunking is
// disabled; values above Config.MaxValueSize are always refused. A refused
// value leaves the previous entry in place. A server that refuses an item as
// too large (its -I is below Config.MaxItemSize) gives an error wrapping
// tiercache.ErrTooLarge. Overwriting a chunked value leaves its old chunks
// to expire or be evicted.
//
// With several replicas, a Set that fails on some of them returns their
// errors joined; the others hold the new value, the failed ones whatever
// they held before (the previous value or nothing). Until the key is
// written again or expires, a reader sees the new value if the first live
// replica took it, and the previous one otherwise. The Store keeps no
// reference to value after Set returns.
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
	var r replicas
	if err := s.c.pick(ik, s.replicas, &r); err != nil {
		return fmt.Errorf("memcached: set: %w", err)
	}
	return s.fanOut(ctx, ik, &r, func(srv *server) error {
		srv.sets.Add(1)
		if len(value) > s.chunkSize {
			return s.storeChunks(ctx, srv, r.fallback, ik, value, exp)
		}
		return s.put(ctx, srv, r.fallback, &memcache.Item{Key: ik, Value: value, Flags: flagValue, Expiration: exp})
	})
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

// put writes one item to srv.
func (s *Store) put(ctx context.Context, srv *server, fallback bool, it *memcache.Item) error {
	err := s.call(ctx, srv, fallback, func(c *memcache.Client) error { return c.Set(it) })
	switch {
	case err == nil:
		return nil
	case ctxDone(ctx) == nil && strings.Contains(err.Error(), "object too large"): // SERVER_ERROR object too large for cache
		return fmt.Errorf("memcached: set on %s: %w: server refused a %d-byte item (is Config.MaxItemSize above the server's -I?): %w",
			srv.spec.name, tiercache.ErrTooLarge, len(it.Value), err)
	}
	return s.opError(ctx, "set", srv, err)
}

// Delete removes key from every replica; deleting a missing key is not an
// error. The chunks of a chunked value are not read back and deleted: they
// are unreachable and leave memcached by expiry or LRU eviction.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcached: delete: %w", err)
	}
	if !s.acquire() {
		return fmt.Errorf("memcached: delete: %w", tiercache.ErrClosed)
	}
	defer s.mu.RUnlock()
	ik := s.ItemKey(key)
	var r replicas
	if err := s.c.pick(ik, s.replicas, &r); err != nil {
		return fmt.Errorf("memcached: delete: %w", err)
	}
	return s.fanOut(ctx, ik, &r, func(srv *server) error {
		srv.deletes.Add(1)
		return s.remove(ctx, srv, r.fallback, ik)
	})
}

// remove deletes one item from srv; a missing item is not an error.
func (s *Store) remove(ctx context.Context, srv *server, fallback bool, ik string) error {
	err := s.call(ctx, srv, fallback, func(c *memcache.Client) error { return c.Delete(ik) })
	if err == nil || errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return s.opError(ctx, "delete", srv, err)
}

// call runs op on srv and accounts for its outcome in srv's health.
func (s *Store) call(ctx context.Context, srv *server, fallback bool, op func(*memcache.Client) error) error {
	err := srv.do(ctx, op)
	s.c.record(ctx, srv, fallback, err)
	return err
}

// opError wraps the error of a call: ctx's error when ctx ended (the I/O
// error it caused says less), else err, with the operation and server.
func (s *Store) opError(ctx context.Context, op string, srv *server, err error) error {
	if cerr := ctxDone(ctx); cerr != nil {
		return fmt.Errorf("memcached: %s on %s: %w", op, srv.spec.name, cerr)
	}
	return fmt.Errorf("memcached: %s on %s: %w", op, srv.spec.name, err)
}

// ctxDone returns ctx.Err(), or context.DeadlineExceeded once ctx's
// deadline has passed: a connection deadline clamped to it can fire a
// moment before ctx's own timer.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// fanOut runs write on each replica in r, in parallel when there are
// several, with failover (see failover), and joins the errors. A panic in
// a write becomes an error wrapping tiercache.ErrPanic.
func (s *Store) fanOut(ctx context.Context, ik string, r *replicas, write func(*server) error) error {
	one := func(srv *server) error {
		err := write(srv)
		if alt := s.failover(ctx, ik, r, err); alt != nil {
			err = write(alt)
		}
		return err
	}
	if r.n == 1 {
		return one(r.list[0])
	}
	errs := make([]error, r.n)
	var wg sync.WaitGroup
	for i, srv := range r.servers() {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("memcached: write to %s: %w: %v", srv.spec.name, tiercache.ErrPanic, p)
				}
			}()
			errs[i] = one(srv)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// failover returns the server on which to retry a call to the replicas r
// of ik that failed with err, or nil: the first live server on the ring
// from ik that is not in r, where the key goes once the failed server is
// ejected. It retries when the failure is unambiguous or has ejected the
// server: a refused connection (no process listening: the server is down
// and its data gone, so writing elsewhere loses nothing), or a failure
// that ejected one of r (or found it ejected). Other failures before the
// ejection (a timeout, a dropped connection) are returned: the server may
// only be slow, or partitioned with its data.
func (s *Store) failover(ctx context.Context, ik string, r *replicas, err error) *server {
	if err == nil || r.fallback || !serverDown(err) || ctxDone(ctx) != nil {
		return nil
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !slices.ContainsFunc(r.servers(), func(srv *server) bool { return srv.ejected.Load() }) {
		return nil
	}
	return s.c.next(ik, r.servers())
}

// SetServers replaces the server list while calls run; see
// Manager.SetServers.
func (s *Store) SetServers(servers ...string) error {
	if !s.acquire() {
		return fmt.Errorf("memcached: set servers: %w", tiercache.ErrClosed)
	}
	defer s.mu.RUnlock()
	return s.c.setServers(servers)
}

// Close marks the Store closed, waits for calls in progress (each bounded
// by Config.Timeout per round trip), stops the probe goroutine and closes
// the connections. Later calls return an error wrapping tiercache.ErrClosed.
// Close is idempotent and safe to call concurrently with other calls.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.c.close()
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

// report passes a damaged entry to Config.OnError.
func (s *Store) report(key string, err error) {
	if s.onError != nil && err != nil {
		s.onError(key, err)
	}
}
