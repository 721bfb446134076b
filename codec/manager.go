package codec

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// Manager adapts a byte-level tiercache.Store into a tiercache.Manager by
// encoding entries with a Codec. It is safe for concurrent use when its Store
// is. Each call costs one Store call (two when an entry must be removed) plus
// one Encode or Decode; Manager itself holds no lock and starts no goroutine.
//
// An entry that fails to decode is treated as a miss: it is deleted from the
// Store, counted in Stats and reported to the WithOnError hook. Values
// returned by Get are owned by the caller but, as with every Manager, should
// be treated as read-only.
type Manager struct {
	store   tiercache.Store
	codec   Codec
	onError func(key string, err error)
	now     func() time.Time
	corrupt atomic.Uint64
	expired atomic.Uint64
}

var _ tiercache.Manager = (*Manager)(nil)

// Option configures NewManager.
type Option func(*Manager)

// WithCodec sets the Codec entries are stored with (default Binary{}). A
// nil Codec keeps the default. Every process sharing a Store must use the
// same Codec: entries in another format decode as corrupt and are removed.
func WithCodec(c Codec) Option {
	return func(m *Manager) {
		if c != nil {
			m.codec = c
		}
	}
}

// WithOnError sets a hook called with the key and the error when a stored
// entry cannot be decoded (the error wraps tiercache.ErrCorrupt,
// tiercache.ErrVersion or tiercache.ErrTooLarge, joined with any error from
// deleting the entry). It is called synchronously from Get, without locks
// held, possibly from many goroutines at once. Default: none.
func WithOnError(fn func(key string, err error)) Option {
	return func(m *Manager) { m.onError = fn }
}

// WithClock sets the clock used to compute retention with Policy.KeepFor
// (default time.Now). A nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(m *Manager) {
		if now != nil {
			m.now = now
		}
	}
}

// NewManager returns a Manager storing entries in s, encoded with Binary{}
// unless WithCodec says otherwise. It panics if s is nil or a nil pointer in
// a non-nil Store (a programming error), with a message naming it. It
// allocates only the Manager.
func NewManager(s tiercache.Store, opts ...Option) *Manager {
	nilarg.Check("codec: NewManager", "s", s)
	m := &Manager{store: s, codec: Binary{}, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Get returns the entry stored under key. It returns (nil, nil, nil) on a
// miss, for an entry that fails to decode (which is deleted and reported)
// and for an entry whose policy allows no more retention (KeepFor <= 0 at
// the Manager's clock: Stores may expire with a coarse granularity). A Store
// error is returned wrapped, naming the key. The response may alias the
// bytes the Store returned (Binary does); the Store gives up ownership of
// them, so this is safe.
func (m *Manager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	data, err := m.store.Get(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("codec: get %s: %w", keyfmt.Quote(key), err)
	}
	if data == nil {
		return nil, nil, nil
	}
	resp, pol, err := m.codec.Decode(data)
	if err != nil {
		m.dropCorrupt(ctx, key, err)
		return nil, nil, nil
	}
	if pol.KeepFor(m.now()) <= 0 {
		m.expired.Add(1)
		return nil, nil, nil
	}
	return resp, pol, nil
}

// dropCorrupt counts and reports an undecodable entry and deletes it when
// it is damaged. An entry that is merely unreadable here, in a newer format
// version (ErrVersion) or over this codec's MaxSize (ErrTooLarge), is kept
// for the readers that understand it, as during a rolling upgrade. A Put
// racing with the delete may lose its new value, which only costs a later
// miss.
func (m *Manager) dropCorrupt(ctx context.Context, key string, err error) {
	m.corrupt.Add(1)
	damaged := !errors.Is(err, tiercache.ErrVersion) && !errors.Is(err, tiercache.ErrTooLarge)
	if damaged {
		if derr := m.store.Delete(ctx, key); derr != nil {
			err = errors.Join(err, fmt.Errorf("codec: delete corrupt entry: %w", derr))
		}
	}
	if m.onError != nil {
		m.onError(key, err)
	}
}

// Put stores resp under key for pol.KeepFor(now) and returns resp. When the
// policy allows no retention it deletes key instead (so no older value
// survives) and still returns resp. Invalid arguments give an error wrapping
// tiercache.ErrInvalid; encoding and Store errors are returned wrapped,
// naming the key. The Store may keep the encoded bytes; resp is not retained.
func (m *Manager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	ttl := pol.KeepFor(m.now())
	if ttl <= 0 {
		if err := m.store.Delete(ctx, key); err != nil {
			return nil, fmt.Errorf("codec: put %s (expired, delete): %w", keyfmt.Quote(key), err)
		}
		return resp, nil
	}
	data, err := m.codec.Encode(resp, pol)
	if err != nil {
		return nil, fmt.Errorf("codec: put %s: %w", keyfmt.Quote(key), err)
	}
	if err := m.store.Set(ctx, key, data, ttl); err != nil {
		return nil, fmt.Errorf("codec: put %s: %w", keyfmt.Quote(key), err)
	}
	return resp, nil
}

// Delete removes key from the Store; deleting a missing key is not an error.
// A Store error is returned wrapped, naming the key.
func (m *Manager) Delete(ctx context.Context, key string) error {
	if err := m.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("codec: delete %s: %w", keyfmt.Quote(key), err)
	}
	return nil
}

// Stats is a snapshot of a Manager's counters.
type Stats struct {
	Corrupt uint64 // entries that failed to decode (damaged ones are removed)
	Expired uint64 // entries found with no retention left, returned as misses
}

// Stats returns a snapshot of the counters. It is safe for concurrent use
// and does not allocate.
func (m *Manager) Stats() Stats {
	return Stats{Corrupt: m.corrupt.Load(), Expired: m.expired.Load()}
}

var _ tiercache.MetricSource = (*Manager)(nil)

// Metrics writes the counters of Stats as codec.* values, then the Store's
// values when the Store is a tiercache.MetricSource.
func (m *Manager) Metrics(w tiercache.MetricWriter) {
	s := m.Stats()
	w.Counter("codec.corrupt", "Entries that failed to decode (damaged ones removed), returned as misses.", s.Corrupt)
	w.Counter("codec.expired", "Entries read back with no retention left, returned as misses.", s.Expired)
	w.Read(m.store)
}
