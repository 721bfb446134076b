// Package redis is a tiercache backend on Redis (or Valkey, its
// protocol-compatible fork), through github.com/redis/go-redis/v9, and an
// invalidation bus on Redis pub/sub that keeps the in-process fronts of
// several processes coherent.
//
// It is a module of its own, github.com/tiercache/tiercache/backends/redis,
// so that users of the main module never download a Redis client.
//
// # Manager
//
// [New] returns a [Manager]: a [Store] (bytes under keys) wrapped by the
// codec adapter (codec.NewManager), the same as backends/memcached and
// backends/disk, so entries are stored encoded with codec.Binary unless
// Config.Codec says otherwise. The caller passes the client it already has
// (Config.Client, a goredis.UniversalClient), so standalone servers,
// Sentinel (goredis.NewFailoverClient) and Cluster (goredis.NewClusterClient)
// all work; the Manager never closes it.
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	shared, err := redis.New(redis.Config{Client: rdb, Prefix: "app:cache:"})
//
// Keys: Config.Prefix followed by the caller's key byte for byte (Redis
// keys are binary-safe); only keys longer than MaxKeyLen (1024 bytes), the
// empty key and keys starting with the reserved "tc~" are replaced by a
// SHA-256 (see keys.go).
//
// Expiry: every entry is written with SET ... PX, its retention
// (Policy.KeepFor) rounded up to the millisecond, and is never stored
// without expiry. PX is relative, so the client's and the server's clocks
// need not agree.
//
// Failures: every call is bounded by Config.Timeout (500 ms): a dead server
// (refused or reset connection) errors at once, a hung one after Timeout,
// with an error wrapping ErrUnavailable or ErrTimeout, so that a Layered
// fails open. The client's pool dials again on the next call, so a
// restarted server is used again with no new Manager. Values over
// Config.MaxValueBytes (64 MiB) are refused with tiercache.ErrTooLarge and
// never sent.
//
// # Invalidation bus
//
// [NewBus] returns a [Bus], a tiercache.Bus on one pub/sub channel. Give
// the same channel to every process whose Layered stacks end in the same
// Redis Manager:
//
//	bus, err := redis.NewBus(redis.BusConfig{Client: rdb, Channel: "app:cache:invalidate"})
//	cache := tiercache.NewLayered([]tiercache.Manager{front, shared}, tiercache.WithBus(bus))
//
// What a reader in another process can see, for how long (the Layered's
// rules are in tiercache's layered_bus.go): when a Put or Delete of K in
// process A returns, A has published "K changed" and the server has queued
// the message to every subscriber; process B deletes K from its upper tiers
// when the message arrives, one bus latency after the PUBLISH (p50 27 µs,
// p99 0.1-0.6 ms between two processes on one loaded 2-vCPU host, often
// before A's Put has returned; see TestCrossProcessCoherence), and from
// then on never returns the older value. Until then B may still return it
// from its front. When B's
// subscription is down (a killed, restarted or unreachable server, noticed
// at once when the connection breaks and within about twice
// BusConfig.HealthCheck when it dies silently) or A's publish failed,
// messages are lost: B's upper-tier copies are then bounded by the
// Layered's max age (tiercache.WithBusMaxAge, default one minute), and the
// Layered is told through its error hook; the subscription is re-established
// with backoff and messages flow again once the server confirms it.
package redis
