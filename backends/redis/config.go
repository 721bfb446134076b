package redis

import (
	"fmt"
	"log/slog"
	"reflect"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Defaults applied to a zero Config field.
const (
	// DefaultTimeout bounds each call (a command and its retries).
	DefaultTimeout = 500 * time.Millisecond
	// DefaultMaxValueBytes is the largest encoded entry Set accepts (64 MiB).
	DefaultMaxValueBytes = 64 << 20
)

// Config configures New and NewStore. Zero values mean the documented
// defaults; only Client is required.
type Config struct {
	// Client is the go-redis client to use: a *goredis.Client (standalone
	// or, from NewFailoverClient, Sentinel), a *goredis.ClusterClient, a
	// *goredis.Ring or any other UniversalClient. It stays the caller's:
	// Close does not close it.
	//
	// Options that suit a cache tier, where a failing call is only a miss:
	//
	//	ContextTimeoutEnabled: true // Timeout reaches the socket; calls run in the caller's goroutine
	//	DialerRetries: 1            // default 5 dials 100 ms apart: a dead server costs the whole Timeout
	//	MaxRetries: -1              // default 3 retries with 8-512 ms backoff: ~100 ms per call to a dead server
	//
	// With them a call to a dead server fails in microseconds with
	// ErrUnavailable, and a call needs no timer for Timeout (about 1 µs and
	// 4 allocations less per call); with go-redis's defaults it fails after
	// up to Timeout, often with ErrTimeout. After PoolSize failed dials
	// go-redis stops dialing and probes once a second, so a restarted server
	// is used again within about a second. To stop calling a dead server for a while
	// altogether, wrap the Manager in tier.Breaker.
	Client goredis.UniversalClient
	// Prefix is prepended to every Redis key, to share a server between
	// caches (at most MaxPrefixLen bytes, any bytes). End it with a
	// separator no other prefix in use starts with, such as "app:cache:".
	Prefix string
	// Timeout bounds each call, retries included (default DefaultTimeout):
	// a dead or hung server gives an error wrapping ErrUnavailable or
	// ErrTimeout within about Timeout, so that a Layered fails open. With
	// a client without ContextTimeoutEnabled, go-redis does not apply it to
	// socket reads and writes, so each call then runs in a goroutine that
	// the caller stops waiting for at Timeout (a few µs and 9 allocations
	// more per call; the abandoned command ends within the client's
	// ReadTimeout).
	Timeout time.Duration
	// MaxValueBytes is the largest encoded entry Set sends (default
	// DefaultMaxValueBytes); a larger one is refused with an error
	// wrapping tiercache.ErrTooLarge and nothing is sent. The server's
	// proto-max-bulk-len (512 MB by default) must be larger.
	MaxValueBytes int
	// Codec encodes entries for New (default codec.Binary{}). Every process
	// sharing the server and Prefix must use the same codec.
	Codec codec.Codec
	// OnError, when set, is called with the caller's key and the error for
	// each entry that failed to decode and has been deleted (and returned
	// as a miss). It is called synchronously from Get, with no lock held,
	// possibly from many goroutines at once.
	OnError func(key string, err error)
	// Logger, when set, receives a warning when calls start failing to
	// reach the server and an info message when they succeed again, at
	// most one message per 10 s. nil logs nothing.
	Logger *slog.Logger
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if isNil(c.Client) {
		return c, fmt.Errorf("redis: %w: no Client", tiercache.ErrInvalid)
	}
	if len(c.Prefix) > MaxPrefixLen {
		return c, fmt.Errorf("redis: %w: Prefix of %d bytes, limit %d", tiercache.ErrInvalid, len(c.Prefix), MaxPrefixLen)
	}
	if c.Timeout < 0 || c.MaxValueBytes < 0 {
		return c, fmt.Errorf("redis: %w: negative Timeout or MaxValueBytes", tiercache.ErrInvalid)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxValueBytes == 0 {
		c.MaxValueBytes = DefaultMaxValueBytes
	}
	return c, nil
}

// isNil reports a nil client, also a typed nil in the interface.
func isNil(c goredis.UniversalClient) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
