package memcached

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
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
	// DefaultEjectAfter is the number of consecutive failures that eject a
	// server from the ring.
	DefaultEjectAfter = 2
	// DefaultRetryAfter is how long an ejected server stays out before it
	// is probed.
	DefaultRetryAfter = 5 * time.Second
	// minIdleConns is the smallest default of Config.MaxIdleConns.
	minIdleConns = 64
)

// Config configures New and NewStore. Zero values mean the documented
// defaults; Servers (or Selector) is required.
type Config struct {
	// Servers are the memcached servers: "host:port" or a unix socket path
	// (containing "/"), each optionally followed by a space and a weight
	// (an integer, default 1): "10.0.0.1:11211 2" gets twice the keys of a
	// server of weight 1. Keys are placed by a consistent-hash ring
	// (ketama, as libmemcached and twemproxy place them; see the package
	// documentation). A server listed twice is an error. Host names are
	// resolved when the Config is used (and by SetServers).
	Servers []string
	// Selector, instead of Servers, places keys with any
	// memcache.ServerSelector (gomemcache's ServerList, or your own). It is
	// asked with the item key (Config.Prefix included). There is no
	// failover with a Selector (it alone decides where a key goes) and
	// Replicas must be 1; SetServers calls the selector's SetServers method
	// when it has one (ServerList does).
	Selector memcache.ServerSelector
	// Replicas is the number of servers each key is written to (default 1,
	// at most 8): a Put writes the first Replicas distinct live servers on
	// the ring from the key's position, a Get reads the first live one, a
	// Delete removes the key from all of them. With 2, losing a server
	// loses no entries. Each replica costs one more write per Put and
	// Delete, and its memory.
	Replicas int
	// EjectAfter is the number of consecutive failures (refused connection,
	// timeout, connection closed mid-reply; a miss is not a failure) after
	// which a server leaves the ring (default DefaultEjectAfter). Negative:
	// never eject.
	EjectAfter int
	// RetryAfter is how long an ejected server stays out of the ring before
	// it is probed and, if it answers, brought back (default
	// DefaultRetryAfter). A server that flaps (is ejected again within
	// MaxRetryAfter of coming back) waits twice as long each time, up to
	// MaxRetryAfter.
	RetryAfter time.Duration
	// Prefix is prepended to every item key, to share servers between
	// caches. At most MaxPrefixLen bytes, no spaces or control characters.
	// End it with a separator (such as ':') no other prefix in use starts
	// with, or two prefixes can overlap ("a" with key "bc", "ab" with "c").
	Prefix string
	// Timeout bounds each dial and each network round trip (default
	// DefaultTimeout). A call involving several round trips (chunks) can
	// take a multiple of it. A context deadline shortens it.
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
	// held, possibly from many goroutines at once. It is also called, with
	// an empty key, with an error wrapping tiercache.ErrPanic if the
	// goroutine that probes servers panics.
	OnError func(key string, err error)
	// Logger, when set, receives server ejections and failed probes (Warn)
	// and servers coming back (Info), at most one message per server and
	// kind every 10 seconds (the count of messages dropped is attached to
	// the next one).
	Logger *slog.Logger
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
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
	if c.MaxValueSize <= 0 {
		c.MaxValueSize = DefaultMaxValueSize
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.EjectAfter == 0 {
		c.EjectAfter = DefaultEjectAfter
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	return c, nil
}

// check reports the first invalid setting of c.
func (c Config) check() error {
	switch {
	case len(c.Servers) == 0 && c.Selector == nil:
		return fmt.Errorf("no servers")
	case len(c.Servers) > 0 && c.Selector != nil:
		return fmt.Errorf("both Servers and Selector are set")
	case c.Selector != nil && c.Replicas > 1:
		return fmt.Errorf("with a Selector (one server per key) the replica count must be 1, got %d", c.Replicas)
	case c.Replicas > maxReplicas:
		return fmt.Errorf("replica count %d above %d", c.Replicas, maxReplicas)
	case c.MaxItemSize > 0 && c.MaxItemSize < 4<<10:
		return fmt.Errorf("MaxItemSize %d below 4 KiB", c.MaxItemSize)
	}
	return checkPrefix(c.Prefix)
}
