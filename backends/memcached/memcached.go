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
// Several servers: keys are spread by gomemcache's ServerList, which picks
// crc32(key) modulo the number of servers (deterministic, not a consistent
// hash ring). There is no failover: while a server is down, the keys it owns
// give errors (fast: a refused connection, or Config.Timeout), and no key
// moves to another server; when it comes back it starts empty and serves
// misses until refilled. Chunks of one value may live on several servers.
// Changing the server list remaps most keys.
package memcached

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Defaults applied to a zero Config field.
const (
	// DefaultTimeout bounds each network round trip and each dial.
	DefaultTimeout = 500 * time.Millisecond
	// DefaultMaxItemSize is memcached's default item size limit (-I 1m).
	DefaultMaxItemSize = 1 << 20
	// DefaultMaxValueSize is the largest value accepted, chunked.
	DefaultMaxValueSize = 64 << 20
	// minIdleConns is the smallest default of Config.MaxIdleConns.
	minIdleConns = 64
)

// Config configures New and NewStore. Zero values mean the documented
// defaults; only Servers is required.
type Config struct {
	// Servers are the memcached addresses, "host:port" or a unix socket
	// path (containing "/"). A server listed twice gets twice the keys.
	Servers []string
	// Prefix is prepended to every item key, to share servers between
	// caches. At most MaxPrefixLen bytes, no spaces or control characters.
	// End it with a separator (such as ':') no other prefix in use starts
	// with, or two prefixes can overlap ("a" with key "bc", "ab" with "c").
	Prefix string
	// Timeout bounds each dial and each network round trip (default
	// DefaultTimeout). A call involving several round trips (chunks) can
	// take a multiple of it.
	Timeout time.Duration
	// MaxIdleConns is the number of idle connections kept per server
	// (default the larger of 64 and 4*GOMAXPROCS). Set it above the peak
	// number of concurrent calls: a call that finds no idle connection
	// dials a new one.
	MaxIdleConns int
	// MaxItemSize is the servers' item size limit, memcached's -I (default
	// DefaultMaxItemSize, at least 4 KiB). Values over MaxItemSize-512
	// bytes are chunked.
	MaxItemSize int
	// MaxValueSize is the largest value Set accepts and Get reads back
	// (default DefaultMaxValueSize).
	MaxValueSize int
	// DisableChunking makes values over the item limit fail with an error
	// wrapping tiercache.ErrTooLarge instead of being chunked.
	DisableChunking bool
	// Codec encodes entries for New (default codec.Binary{}). Every process
	// sharing the servers and Prefix must use the same codec.
	Codec codec.Codec
	// OnError, when set, is called with the caller's key and the error for
	// each entry that was damaged and has been deleted and turned into a
	// miss: bytes that fail to decode (codec) or a chunked value that fails
	// its checks (Store). It is called synchronously from Get, with no lock
	// held, possibly from many goroutines at once.
	OnError func(key string, err error)
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if len(c.Servers) == 0 {
		return c, fmt.Errorf("memcached: %w: no servers", tiercache.ErrInvalid)
	}
	if err := checkPrefix(c.Prefix); err != nil {
		return c, fmt.Errorf("memcached: %w: %v", tiercache.ErrInvalid, err)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxIdleConns <= 0 {
		c.MaxIdleConns = max(minIdleConns, 4*runtime.GOMAXPROCS(0))
	}
	if c.MaxItemSize <= 0 {
		c.MaxItemSize = DefaultMaxItemSize
	}
	if c.MaxItemSize < 4<<10 {
		return c, fmt.Errorf("memcached: %w: MaxItemSize %d below 4 KiB", tiercache.ErrInvalid, c.MaxItemSize)
	}
	if c.MaxValueSize <= 0 {
		c.MaxValueSize = DefaultMaxValueSize
	}
	return c, nil
}

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
// shows up as errors from the calls. It returns an error wrapping
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

// Stats returns the codec adapter's counters (entries dropped as corrupt or
// found expired). It does not allocate.
func (m *Manager) Stats() codec.Stats { return m.m.Stats() }

// Close closes the Manager's Store (see Store.Close); afterwards every call
// returns an error wrapping tiercache.ErrClosed. Close is idempotent.
func (m *Manager) Close() error { return m.store.Close() }
