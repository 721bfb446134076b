package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/gregjones/httpcache"
	"github.com/gregjones/httpcache/diskcache"
	golru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"
	gocache "github.com/patrickmn/go-cache"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/codec"
)

// entry is what object caches store: the response and its policy, shared.
type entry struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
}

// peer is one front tier to measure.
type peer struct {
	name  string
	bound string // how the peer is bounded
	open  func(b budget) (tiercache.Manager, func() error, error)
}

// budget is the memory the front may use, as bytes and as an entry count
// (for caches bounded by entries only: bytes / mean entry size).
type budget struct {
	bytes   int64
	entries int
}

// objectCache adapts a cache of *entry values.
type objectCache struct {
	get func(key string) (*entry, bool)
	set func(key string, e *entry, size int64)
	del func(key string)
}

func (c *objectCache) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	if e, ok := c.get(key); ok {
		return e.resp, e.pol, nil
	}
	return nil, nil, nil
}

func (c *objectCache) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	c.set(key, &entry{resp, pol}, int64(resp.Size()+len(key)))
	return resp, nil
}

func (c *objectCache) Delete(_ context.Context, key string) error {
	c.del(key)
	return nil
}

// byteCache adapts a cache of encoded entries (codec.Binary, as the disk
// and memcached backends store them).
type byteCache struct {
	get func(key string) ([]byte, bool)
	set func(key string, b []byte) error
	del func(key string)
}

var binary codec.Binary

func (c *byteCache) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	b, ok := c.get(key)
	if !ok {
		return nil, nil, nil
	}
	return binary.Decode(b)
}

func (c *byteCache) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	b, err := binary.Encode(resp, pol)
	if err == nil {
		err = c.set(key, b)
	}
	return resp, err
}

func (c *byteCache) Delete(_ context.Context, key string) error {
	c.del(key)
	return nil
}

func noClose() error { return nil }

var peers = []peer{
	{"tiercache lru", "bytes", func(b budget) (tiercache.Manager, func() error, error) {
		m, err := lru.New(lru.Config{MaxEntries: 1 << 30, MaxBytes: b.bytes})
		if err != nil {
			return nil, nil, err
		}
		return m, m.Close, nil
	}},
	{"golang-lru/v2", "entries", func(b budget) (tiercache.Manager, func() error, error) {
		c, err := golru.New[string, *entry](b.entries)
		if err != nil {
			return nil, nil, err
		}
		return &objectCache{get: c.Get, set: func(k string, e *entry, _ int64) { c.Add(k, e) }, del: func(k string) { c.Remove(k) }},
			noClose, nil
	}},
	{"otter/v2", "bytes", func(b budget) (tiercache.Manager, func() error, error) {
		c, err := otter.New(&otter.Options[string, *entry]{
			MaximumWeight: uint64(b.bytes),
			Weigher:       func(k string, e *entry) uint32 { return uint32(e.resp.Size() + len(k)) },
		})
		if err != nil {
			return nil, nil, err
		}
		return &objectCache{get: c.GetIfPresent, set: func(k string, e *entry, _ int64) { c.Set(k, e) },
			del: func(k string) { c.Invalidate(k) }}, noClose, nil
	}},
	{"ristretto/v2", "bytes", func(b budget) (tiercache.Manager, func() error, error) {
		c, err := ristretto.NewCache(&ristretto.Config[string, *entry]{
			NumCounters: 10 * int64(b.entries), MaxCost: b.bytes, BufferItems: 64,
		})
		if err != nil {
			return nil, nil, err
		}
		return &objectCache{get: c.Get, set: func(k string, e *entry, size int64) { c.Set(k, e, size) }, del: c.Del},
			func() error { c.Close(); return nil }, nil
	}},
	{"bigcache/v3", "bytes (16 shards)", func(b budget) (tiercache.Manager, func() error, error) {
		cfg := bigcache.DefaultConfig(time.Hour)
		cfg.Shards, cfg.HardMaxCacheSize, cfg.Verbose = 16, int(b.bytes>>20), false
		cfg.MaxEntriesInWindow, cfg.MaxEntrySize = b.entries, int(b.bytes/int64(max(b.entries, 1)))
		c, err := bigcache.New(context.Background(), cfg)
		if err != nil {
			return nil, nil, err
		}
		get := func(k string) ([]byte, bool) {
			v, err := c.Get(k)
			return v, err == nil
		}
		return &byteCache{get: get, set: c.Set, del: func(k string) { c.Delete(k) }}, c.Close, nil
	}},
	{"patrickmn/go-cache", "unbounded", func(b budget) (tiercache.Manager, func() error, error) {
		c := gocache.New(time.Hour, 10*time.Minute)
		get := func(k string) (*entry, bool) {
			v, ok := c.Get(k)
			if !ok {
				return nil, false
			}
			return v.(*entry), true
		}
		return &objectCache{get: get, set: func(k string, e *entry, _ int64) { c.SetDefault(k, e) }, del: c.Delete}, noClose, nil
	}},
	{"httpcache MemoryCache", "unbounded", func(b budget) (tiercache.Manager, func() error, error) {
		c := httpcache.NewMemoryCache()
		return &byteCache{get: c.Get, set: func(k string, v []byte) error { c.Set(k, v); return nil }, del: c.Delete}, noClose, nil
	}},
	{"httpcache diskcache", "unbounded (files)", func(b budget) (tiercache.Manager, func() error, error) {
		dir, err := os.MkdirTemp("", "tiercache-peers-diskcache-")
		if err != nil {
			return nil, nil, err
		}
		c := diskcache.New(dir)
		return &byteCache{get: c.Get, set: func(k string, v []byte) error { c.Set(k, v); return nil }, del: c.Delete},
			func() error { return os.RemoveAll(dir) }, nil
	}},
}

var errUnknownPeer = errors.New("unknown peer")
