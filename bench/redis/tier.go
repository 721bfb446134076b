package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tiercache/tiercache/backends/redis"
	"github.com/tiercache/tiercache/bench/internal/benchcmd"
	"github.com/tiercache/tiercache/internal/redistest"
)

func init() { benchcmd.Register("redis", builder{}) }

// builder is the redis lower tier of the bench: a redis.Manager (module
// backends/redis) on a go-redis client.
type builder struct{}

// Start starts a redis-server on a free loopback port (env.Addr "", with
// maxmemory env.Memory and allkeys-lru eviction), or checks that the
// server at env.Addr answers PING.
func (builder) Start(env benchcmd.Env) (benchcmd.Backend, error) {
	b := &backend{env: env}
	if env.Addr == "" {
		srv, err := redistest.StartProcess(redistest.Options{MaxMemory: env.Memory})
		if err != nil {
			return nil, err
		}
		b.srv, b.addr, b.fresh = srv, srv.Addr, true
		return b, nil
	}
	b.addr, b.nonce = env.Addr, strconv.FormatInt(time.Now().UnixNano(), 36)
	c := b.client()
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		return nil, fmt.Errorf("redis at %s is unreachable: %w", env.Addr, err)
	}
	return b, nil
}

// backend is a started redis: one the command owns (srv), restarted empty
// before each layout, or one given by address and shared, on which each
// layout writes under a key prefix of its own (whose keys then expire with
// the workload's retention).
type backend struct {
	env   benchcmd.Env
	addr  string
	srv   *redistest.Server // nil for a given server
	fresh bool              // srv has not been used yet
	nonce string            // of the key prefixes on a given server
}

// client returns a client set up as backends/redis recommends for a cache
// tier, with a pool for the bench's concurrency.
func (b *backend) client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr:                  b.addr,
		ContextTimeoutEnabled: true,
		DialerRetries:         1,
		MaxRetries:            -1,
		PoolSize:              max(10*runtime.GOMAXPROCS(0), 2*b.env.Concurrency),
	})
}

// Tier returns a redis.Manager for layout on an empty owned server, or
// under a prefix of its own on a given one. Held is the growth of the
// server's used_memory since then (on a given server, others' writes
// count too).
func (b *backend) Tier(layout string) (*benchcmd.Tier, error) {
	prefix := ""
	switch {
	case b.srv == nil:
		prefix = "tiercache-bench-" + b.nonce + "-" + layout + ":"
	case !b.fresh:
		if err := b.srv.Restart(); err != nil {
			return nil, err
		}
	}
	b.fresh = false
	c := b.client()
	m, err := redis.New(redis.Config{Client: c, Prefix: prefix})
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	base := usedMemory(c)
	return &benchcmd.Tier{
		Name:    "redis",
		Manager: m,
		Held: func() int64 {
			if n := usedMemory(c); n >= 0 && base >= 0 {
				return n - base
			}
			return -1
		},
		Close: func() error { return errors.Join(m.Close(), c.Close()) },
	}, nil
}

// Close stops an owned server; a given one is left as is.
func (b *backend) Close() error {
	if b.srv != nil {
		b.srv.Close()
	}
	return nil
}

// usedMemory returns the server's used_memory (INFO memory), -1 when it
// cannot be read.
func usedMemory(c *goredis.Client) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}
