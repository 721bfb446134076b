package redis

import (
	"context"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Manager is a tiercache.Manager on Redis: a Store wrapped by the codec
// adapter. It is safe for concurrent use. A Get costs one round trip and a
// decode, a Put an encode and one round trip, a Delete one round trip.
type Manager struct {
	store *Store
	m     *codec.Manager
}

var _ tiercache.Manager = (*Manager)(nil)

// New returns a Manager for cfg. It does not connect: an unreachable server
// shows up as errors from the calls, and a server that comes back is used
// again by the client's connection pool. It returns an error wrapping
// tiercache.ErrInvalid for an invalid Config.
func New(cfg Config) (*Manager, error) {
	s, err := NewStore(cfg)
	if err != nil {
		return nil, err
	}
	m := codec.NewManager(s, codec.WithCodec(cfg.Codec), codec.WithOnError(cfg.OnError))
	return &Manager{store: s, m: m}, nil
}

// Get returns the response and policy stored under key, or (nil, nil, nil)
// on a miss. Entries that fail to decode are misses that are deleted and
// reported to Config.OnError; a server failure or timeout is an error. The
// returned values are owned by the caller but should be treated as
// read-only.
func (m *Manager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return m.m.Get(ctx, key)
}

// Put stores resp under key until pol.KeepFor ends (to the millisecond)
// and returns resp. A policy with no retention left deletes key instead.
// Invalid arguments give an error wrapping tiercache.ErrInvalid; an
// encoding over Config.MaxValueBytes one wrapping tiercache.ErrTooLarge.
func (m *Manager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	return m.m.Put(ctx, key, resp, pol)
}

// Delete removes key; deleting a missing key is not an error.
func (m *Manager) Delete(ctx context.Context, key string) error {
	return m.m.Delete(ctx, key)
}

// Store returns the Manager's Store, for item keys and direct byte access.
func (m *Manager) Store() *Store { return m.store }

// Stats returns the Manager's counters: the Store's and the codec
// adapter's. It does not allocate.
func (m *Manager) Stats() Stats {
	st := m.store.Stats()
	cs := m.m.Stats()
	st.Corrupt, st.Expired = cs.Corrupt, cs.Expired
	return st
}

// Close closes the Manager's Store (see Store.Close); afterwards every call
// returns an error wrapping tiercache.ErrClosed. It does not close the
// client. Close is idempotent.
func (m *Manager) Close() error { return m.store.Close() }
