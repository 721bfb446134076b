package main

import (
	arc "github.com/hashicorp/golang-lru/arc/v2"
	golru "github.com/hashicorp/golang-lru/v2"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
)

// The lru backend's other evictions and golang-lru's ARC and 2Q join the
// Zipf comparison, beside "tiercache lru" and "golang-lru/v2" (LRU).
func init() {
	peers = append(peers,
		tiercachePeer(lru.ARC), tiercachePeer(lru.Adaptive),
		peer{"golang-lru ARC", "entries", func(b budget) (tiercache.Manager, func() error, error) {
			c, err := arc.NewARC[string, *entry](b.entries)
			if err != nil {
				return nil, nil, err
			}
			return &objectCache{get: c.Get, set: func(k string, e *entry, _ int64) { c.Add(k, e) }, del: c.Remove}, noClose, nil
		}},
		peer{"golang-lru 2Q", "entries", func(b budget) (tiercache.Manager, func() error, error) {
			c, err := golru.New2Q[string, *entry](b.entries)
			if err != nil {
				return nil, nil, err
			}
			return &objectCache{get: c.Get, set: func(k string, e *entry, _ int64) { c.Add(k, e) }, del: c.Remove}, noClose, nil
		}},
	)
}

// tiercachePeer is the lru backend with eviction ev, bounded by bytes as
// "tiercache lru" is.
func tiercachePeer(ev lru.Eviction) peer {
	return peer{"tiercache " + ev.String(), "bytes", func(b budget) (tiercache.Manager, func() error, error) {
		m, err := lru.New(lru.Config{MaxEntries: 1 << 30, MaxBytes: b.bytes, Eviction: ev})
		if err != nil {
			return nil, nil, err
		}
		return m, m.Close, nil
	}}
}
