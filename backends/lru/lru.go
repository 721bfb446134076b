// Package lru is an in-process tiercache.Manager bounded by entries and bytes.
//
// It keeps *tiercache.Response and *tiercache.Policy values as they are (no
// encoding). Keys are spread by hash/maphash over shards, each under its own
// sync.Mutex that also guards its replacement structure and byte count, so
// that Gets on different shards run in parallel.
//
// Config.Eviction chooses the replacement (see Eviction): LRU (the default,
// golang-lru/v2's non-locking simplelru), ARC (golang-lru's arc/v2
// algorithm) or Adaptive (W-TinyLFU admission with a hill-climbed window,
// this package's own; ADAPTIVE.md has its design and measured hit ratios).
// With every eviction a hit takes the shard lock only, reads no clock and
// does not allocate.
//
// Budgets are per shard: each shard holds at most MaxEntries/Shards entries
// and MaxBytes/Shards bytes, so the totals never exceed MaxEntries and
// MaxBytes, and the largest entry a Manager accepts is MaxBytes/Shards bytes.
// Replacement is per shard: the entry evicted is chosen among its shard's.
//
// An entry's size is Response.Size() + len(key) + EntryOverhead plus the
// request header values its Policy varies on (see EntryOverhead).
//
// Entries expire at the deadline their policy's KeepFor gives at Put. Get
// compares that deadline with a process-wide coarse clock (internal/clock)
// instead of calling time.Now, so an entry may still be returned for up to
// five milliseconds (the clock's resolution) after its deadline, longer only
// when the clock's goroutine is delayed by saturated CPUs; it is never
// dropped early. One goroutine per process runs the clock while any Manager
// (without Config.Now) is open. Policy.TTL of the returned policy always gives the exact freshness.
package lru

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/clock"
)

// Defaults and limits of Config.
const (
	// DefaultMaxEntries is the entry budget when Config.MaxEntries is 0.
	DefaultMaxEntries = 100_000
	// DefaultMaxBytes is the byte budget when Config.MaxBytes is 0 (256 MiB).
	DefaultMaxBytes = 256 << 20
	// MaxShards is the largest Config.Shards accepted.
	MaxShards = 1024
	// maxDefaultShards caps the default shard count. The default is one
	// shard with GOMAXPROCS <= 2 and one shard per P beyond (GOMAXPROCS
	// rounded up to a power of two). Every LRU hit writes its shard's lock
	// and list, so with more shards than cores those cache lines move
	// between cores on most hits: on 2 vCPUs, parallel hits measured 31 ns
	// with 1 shard, 46-57 ns with 2 and 63-84 ns with 4-64, while the bench
	// workload ran as fast with 1 as with 2. More cores need more locks to
	// keep contention per lock low; 64 is far past that point.
	maxDefaultShards = 64
	// minShardEntries and minShardBytes keep default shards large enough to
	// hold a useful share of the budgets and entries of at least 1 MiB.
	minShardEntries = 256
	minShardBytes   = 1 << 20
)

// Config configures New. The zero value is a valid configuration: every zero
// field takes its documented default. Negative values are invalid.
type Config struct {
	// MaxEntries bounds the number of entries (default DefaultMaxEntries).
	MaxEntries int
	// MaxBytes bounds the estimated memory of all entries in bytes (default
	// DefaultMaxBytes); see EntryOverhead for how an entry is counted.
	MaxBytes int64
	// Shards is the number of independently locked shards: a power of two
	// from 1 to MaxShards, and at most MaxEntries. The default is 1 when
	// GOMAXPROCS <= 2, else GOMAXPROCS rounded up to a power of two, at most
	// 64, halved while a shard would get fewer than 256 entries or 1 MiB. Use 1 for one exact LRU order
	// over all entries and the largest possible entry (MaxBytes).
	Shards int
	// Eviction chooses which entries are dropped to stay within the
	// budgets: LRU (the zero value), ARC or Adaptive. See Eviction.
	Eviction Eviction
	// Now replaces time.Now, in Put and for expiry in Get. It is meant for
	// tests (a fake clock) and may start at any time, the zero time
	// included: deadlines are kept relative to its value at New. A Manager
	// with Now set starts no clock goroutine.
	Now func() time.Time
}

// Manager is an in-process, sharded tiercache.Manager. It is safe for
// concurrent use. Values returned by Get are the ones given to Put, shared
// with every caller: treat them as read-only (Response.Clone to modify).
type Manager struct {
	managerState
	// Every Get reads the Manager: padded to whole cache lines, it shares
	// none with objects that others write (measured: parallel hits 44 ns
	// instead of 26 when a 96-byte Manager shared a line).
	_ [(128 - unsafe.Sizeof(managerState{})%128) % 128]byte
}

type managerState struct {
	shards []shard
	mask   uint64
	hashed bool // compute the key's maphash: more than one shard, or Adaptive
	seed   maphash.Seed
	now    func() time.Time // nil: time.Now for Put, clock.Now for Get
	epoch  time.Time        // with now: deadlines are nanoseconds since epoch
	closed atomic.Bool
	rel    *release
}

var (
	_ tiercache.Manager       = (*Manager)(nil)
	_ tiercache.LookupCounter = (*Manager)(nil)
)

// errClosed is built once so that calls after Close do not allocate.
var errClosed = fmt.Errorf("lru: %w", tiercache.ErrClosed)

// New returns an empty Manager configured by cfg, or an error wrapping
// tiercache.ErrInvalid for a negative or inconsistent field. Unless cfg.Now is
// set it takes a reference on the process-wide coarse clock, whose goroutine
// runs until the last Manager is closed: call Close when done.
func New(cfg Config) (*Manager, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	m := &Manager{managerState: managerState{
		shards: make([]shard, cfg.Shards),
		mask:   uint64(cfg.Shards - 1),
		hashed: cfg.Shards > 1 || cfg.Eviction.hashed(),
		seed:   maphash.MakeSeed(),
		now:    cfg.Now,
	}}
	bg := budget{cfg.MaxEntries / cfg.Shards, cfg.MaxBytes / int64(cfg.Shards)}
	for i := range m.shards {
		m.shards[i].init(cfg.Eviction, bg, maphash.Comparable(m.seed, i))
	}
	if m.now != nil {
		m.epoch = m.now()
	} else {
		clock.Acquire()
		m.rel = new(release)
		// A Manager dropped without Close still releases the clock.
		runtime.AddCleanup(m, (*release).do, m.rel)
	}
	return m, nil
}

// fill validates cfg and replaces zero values by defaults.
func (cfg *Config) fill() error {
	switch {
	case cfg.MaxEntries < 0:
		return fmt.Errorf("lru: %w: negative MaxEntries %d", tiercache.ErrInvalid, cfg.MaxEntries)
	case cfg.MaxBytes < 0:
		return fmt.Errorf("lru: %w: negative MaxBytes %d", tiercache.ErrInvalid, cfg.MaxBytes)
	case cfg.Shards < 0 || cfg.Shards > MaxShards || bits.OnesCount(uint(cfg.Shards)) > 1:
		return fmt.Errorf("lru: %w: Shards %d is not a power of two in [1, %d]", tiercache.ErrInvalid, cfg.Shards, MaxShards)
	case int(cfg.Eviction) >= len(evictionNames):
		return fmt.Errorf("lru: %w: unknown %v", tiercache.ErrInvalid, cfg.Eviction)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Shards == 0 {
		cfg.Shards = defaultShards(cfg.MaxEntries, cfg.MaxBytes, runtime.GOMAXPROCS(0))
	}
	if cfg.Shards > cfg.MaxEntries || cfg.MaxBytes/int64(cfg.Shards) < EntryOverhead {
		return fmt.Errorf("lru: %w: MaxEntries %d and MaxBytes %d are too small for %d shards",
			tiercache.ErrInvalid, cfg.MaxEntries, cfg.MaxBytes, cfg.Shards)
	}
	return nil
}

// defaultShards picks the shard count for the given budgets and GOMAXPROCS.
func defaultShards(maxEntries int, maxBytes int64, procs int) int {
	if procs <= 2 {
		return 1
	}
	n := min(1<<bits.Len(uint(procs-1)), maxDefaultShards)
	for n > 1 && (maxEntries/n < minShardEntries || maxBytes/int64(n) < minShardBytes) {
		n /= 2
	}
	return n
}

// Get returns the response and policy stored under key, or (nil, nil, nil) on
// a miss. An entry past its deadline is removed and counted as a miss. A hit
// costs one shard lock and no allocation (a maphash of the key with more
// than one shard or with Adaptive, which also records the request in its
// sketch); Get never calls time.Now (see the package doc for the expiry
// precision). ctx is not
// consulted: the lookup is in memory and short, so a cancelled context still
// returns the entry. The values are shared: do not modify them. After Close,
// Get returns an error wrapping tiercache.ErrClosed.
func (m *Manager) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	now := m.nowNanos()
	s, h := m.shard(key)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, errClosed
	}
	e := s.getLocked(key, h, now)
	s.mu.Unlock()
	return e.resp, e.pol, nil
}

// Put stores resp and pol under key until pol.KeepFor(now) has passed and
// returns resp. The Manager keeps the pointers, not copies: the caller must
// not modify resp or pol afterwards. When KeepFor is <= 0 nothing is stored
// and any older value under key is removed. An entry larger than a shard's
// byte budget (MaxBytes/Shards) is refused with an error wrapping
// tiercache.ErrTooLarge, and any older value under key is removed. Otherwise
// entries of the shard are evicted, as Config.Eviction chooses, until it is
// within budget; Adaptive may evict the new entry itself (it was not
// admitted: Stats.Rejections), so a Get right after a Put may miss.
// Put calls time.Now (or Config.Now) once, walks resp's header map to size
// it, and takes one shard lock; it allocates only when key is new. ctx is not
// consulted. Invalid arguments give an error wrapping tiercache.ErrInvalid;
// after Close, an error wrapping tiercache.ErrClosed.
func (m *Manager) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	now := m.wallNow()
	ttl := pol.KeepFor(now)
	s, h := m.shard(key)
	if ttl <= 0 {
		if err := m.remove(s, key, h); err != nil {
			return nil, err
		}
		return resp, nil
	}
	size := entrySize(key, resp, pol)
	if size > s.maxBytes {
		if err := m.remove(s, key, h); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("lru: %w: entry of %d bytes exceeds the shard budget of %d bytes (MaxBytes/Shards)",
			tiercache.ErrTooLarge, size, s.maxBytes)
	}
	e := entry{resp: resp, pol: pol, deadline: deadline(m.nanos(now), ttl), size: size}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	s.putLocked(key, h, e)
	return resp, nil
}

// Delete removes key; deleting a missing key is not an error. It costs a
// maphash of the key and one shard lock and does not allocate. ctx is not
// consulted. After Close it returns an error wrapping tiercache.ErrClosed.
func (m *Manager) Delete(_ context.Context, key string) error {
	s, h := m.shard(key)
	return m.remove(s, key, h)
}

// Close drops every entry and releases the Manager's reference on the coarse
// clock; the clock's goroutine exits when the last Manager is closed. Close
// is idempotent and safe for concurrent use with every other method; Get,
// Put and Delete called after it return an error wrapping
// tiercache.ErrClosed. Stats keeps its counts; Len and Bytes become 0.
func (m *Manager) Close() error {
	if !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	for i := range m.shards {
		m.shards[i].close()
	}
	if m.rel != nil {
		m.rel.do()
	}
	return nil
}

func (m *Manager) remove(s *shard, key string, h uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.ev.remove(key, h)
	return nil
}

// shard returns the shard of key and, when the Manager uses it, the key's
// maphash (else 0), computed before any lock is taken.
func (m *Manager) shard(key string) (*shard, uint64) {
	if !m.hashed {
		return &m.shards[0], 0
	}
	h := maphash.String(m.seed, key)
	return &m.shards[h&m.mask], h
}

// nowNanos is the time Get compares deadlines with: the coarse clock, or
// Config.Now in tests.
func (m *Manager) nowNanos() int64 {
	if m.now != nil {
		return m.nanos(m.now())
	}
	return clock.Now()
}

// nanos converts t to the time base of deadlines: Unix nanoseconds for the
// real clock; for Config.Now, nanoseconds since its value at New, so that a
// fake clock anywhere in time (the zero time, before 1970) is exact within
// 292 years of its start.
func (m *Manager) nanos(t time.Time) int64 {
	if m.now != nil {
		return int64(t.Sub(m.epoch))
	}
	return t.UnixNano()
}

// wallNow is the time Put computes retention from.
func (m *Manager) wallNow() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

// deadline returns now+ttl, saturated at math.MaxInt64. A negative now
// cannot overflow and is not saturated.
func deadline(now int64, ttl time.Duration) int64 {
	if now > 0 && int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// release drops a Manager's clock reference exactly once, from Close or from
// the cleanup of a Manager that was never closed.
type release struct{ done atomic.Bool }

func (r *release) do() {
	if r.done.CompareAndSwap(false, true) {
		clock.Release()
	}
}
