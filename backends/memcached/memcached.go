// Package memcached is a tiercache backend on memcached servers, through
// github.com/bradfitz/gomemcache.
//
// [New] returns a [Manager]: a [Store] (bytes under keys) wrapped by the
// codec adapter (codec.NewManager), so entries are stored encoded with
// codec.Binary unless Config.Codec says otherwise. Use [NewStore] to pair the
// Store with a codec or decorator of your own.
//
// Keys: memcached accepts keys of at most 250 bytes with no spaces or control
// characters. Keys that break a rule, and keys that start with the reserved
// "tc~", are replaced by "tc~h~" and the unpadded base64url SHA-256 of the
// key; other keys are stored as they are, after Config.Prefix, and stay
// readable in memcached-tool dumps. [Store.ItemKey] tells the item key of any
// key.
//
// Expiry: an entry expires on the server when its retention ends
// (Policy.KeepFor), in whole seconds rounded up. Up to 30 days this is sent
// as relative seconds; beyond, as an absolute Unix time, which the server
// reads by its own clock. An entry is never stored without expiry.
//
// Large values: a value over the item limit (Config.MaxItemSize less 512
// bytes of item overhead) is split into chunks under a manifest that holds a
// CRC-32C of the whole value and a random generation id used in the chunk
// keys. A chunked value reads back whole or not at all. Config.DisableChunking
// refuses such values with an error wrapping tiercache.ErrTooLarge instead.
//
// Several servers: keys are placed on a consistent-hash ring, ketama as
// libmemcached (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and twemproxy
// (distribution ketama, hash md5) compute it: MD5, 160 points per server of
// even share, 4 points per digest, points named "host-i" on port 11211 and
// "host:port-i" otherwise, weights as in "10.0.0.1:11211 2". A key lands on
// the server those clients pick for the same item key, so a fleet shared
// with C, PHP (php-memcached) or Python (pylibmc) services, or with
// twemproxy, stays coherent: any of them can find or delete an entry this
// package wrote. That is why the point names are libmemcached's (twemproxy
// copied them for the same reason), not spymemcached's "/host:port-i" or
// another client's, which place keys elsewhere. The placement of a fixed
// key set is pinned by a test against libmemcached itself (testdata/ketama)
// and checked live against twemproxy. The hashed key is the item key,
// Config.Prefix included, as twemproxy hashes it; libmemcached hashes its
// namespace (MEMCACHED_CALLBACK_NAMESPACE, php-memcached's OPT_PREFIX_KEY)
// only with MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY, so set that behaviour in
// a client that uses one. Going from 3 to 4 servers moves about a quarter
// of the keys; removing one moves only its keys. Config.Selector accepts
// any gomemcache ServerSelector instead.
//
// Failover: a server that fails Config.EjectAfter consecutive calls (2;
// refused, timed out, or dropped the connection) leaves the ring for
// Config.RetryAfter (5s); its keys go to the next server on the ring, so
// callers see misses there instead of errors. A call refused by a server
// (no process listening: it is down and its data gone) goes to the key's
// next server at once, as does the call whose failure ejects a server, so
// a crashed server costs callers no errors at all. A server that times out
// or drops connections may only be slow, or partitioned with its data: its
// calls fail (after Config.Timeout) until it is ejected, EjectAfter-1
// errors per caller at most. The server comes back after a successful probe; a flapping
// server waits twice as long each time, up to MaxRetryAfter (1 minute). A
// server that comes back after a restart is empty; one that comes back
// after a network partition still holds what it had, so until those entries
// expire it can return values older than writes (and Deletes) made while it
// was out. See health.go for the exact rules.
//
// Replicas: with Config.Replicas 2, a Put writes the first 2 live servers on
// the ring from the key, a Get reads the first live one (and the next when
// it fails), a Delete removes the key from both: losing one server loses no
// hits. See Store.Set for what a Put that fails on one replica leaves.
//
// Live membership: [Manager.SetServers] replaces the server list while
// calls run, with no lock held across network calls; servers kept keep
// their connections, health and counters. Chunks of a large value always
// live on the server that holds its manifest, so a value is read whole or
// not at all whatever the ring does.
//
// Stats: [Manager.Stats] reports per-server counters (gets, hits, errors,
// ejections) and states, so an operator can see which server is sick;
// Config.Logger receives ejections, rejoins and failed probes.
package memcached

import (
	"context"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Manager is a tiercache.Manager on memcached: a Store wrapped by the codec
// adapter. It is safe for concurrent use. A Get costs one round trip (more
// for a chunked value) and a decode; a Put an encode and one round trip per
// item written; a Delete one round trip. See Store for how contexts and
// timeouts apply.
type Manager struct {
	store *Store
	m     *codec.Manager
}

var _ tiercache.Manager = (*Manager)(nil)

// New returns a Manager for cfg. It does not connect: an unreachable server
// shows up as errors from the calls, and is ejected. It starts one
// goroutine (probes of ejected servers), stopped by Close. It returns an
// error wrapping tiercache.ErrInvalid for an invalid Config.
func New(cfg Config) (*Manager, error) {
	s, err := NewStore(cfg)
	if err != nil {
		return nil, err
	}
	m := codec.NewManager(s, codec.WithCodec(cfg.Codec), codec.WithOnError(cfg.OnError))
	return &Manager{store: s, m: m}, nil
}

// Get returns the response and policy stored under key, or (nil, nil, nil)
// on a miss. Damaged entries are misses that are deleted and reported to
// Config.OnError; a server failure or timeout is an error. The returned
// values are owned by the caller but should be treated as read-only.
func (m *Manager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return m.m.Get(ctx, key)
}

// Put stores resp under key until pol.KeepFor ends and returns resp. A
// policy with no retention left deletes key instead. Invalid arguments give
// an error wrapping tiercache.ErrInvalid; a value that may not be stored, one
// wrapping tiercache.ErrTooLarge.
func (m *Manager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	return m.m.Put(ctx, key, resp, pol)
}

// Delete removes key; deleting a missing key is not an error.
func (m *Manager) Delete(ctx context.Context, key string) error {
	return m.m.Delete(ctx, key)
}

// Store returns the Manager's Store, for item keys and direct byte access.
func (m *Manager) Store() *Store { return m.store }

// Stats returns the counters of the codec adapter (entries dropped as
// corrupt or found expired) and of each server. It costs one allocation.
func (m *Manager) Stats() Stats {
	st := m.store.Stats()
	cs := m.m.Stats()
	st.Corrupt, st.Expired = cs.Corrupt, cs.Expired
	return st
}

// SetServers replaces Config.Servers (same syntax, weights allowed) while
// calls run. Keys move as the ring changes (adding a fourth server to three
// moves about a quarter of them, which then miss until written again);
// servers listed before and after keep their connections, health and
// counters; calls in flight finish on the servers they started on. It
// resolves the addresses before changing anything and holds no lock across
// network calls. An invalid list gives an error wrapping
// tiercache.ErrInvalid and changes nothing. With Config.Selector, it calls
// the selector's SetServers method (an error if it has none).
func (m *Manager) SetServers(servers ...string) error { return m.store.SetServers(servers...) }

// Close closes the Manager's Store (see Store.Close); afterwards every call
// returns an error wrapping tiercache.ErrClosed. Close is idempotent.
func (m *Manager) Close() error { return m.store.Close() }
