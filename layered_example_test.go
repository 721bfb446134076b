package tiercache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
)

// NewLayered stacks a small, fast front over a larger tier (here two
// in-process LRUs; in production the lower tier would be memcached or disk).
// Put writes through to every tier, the authority first; a Get that misses
// the front but hits below promotes the entry into the front.
func ExampleNewLayered() {
	front, err := lru.New(lru.Config{MaxEntries: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer front.Close()
	authority, err := lru.New(lru.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer authority.Close()

	cache := tiercache.NewLayered([]tiercache.Manager{front, authority},
		tiercache.WithTierNames("front", "authority"),
		tiercache.WithErrorHook(func(tier int, op, key string, err error) {
			log.Printf("tier %d %s %q: %v", tier, op, key, err)
		}))
	defer cache.Close()

	ctx := context.Background()
	resp := &tiercache.Response{Status: http.StatusOK, Body: []byte("hello")}
	if _, err := cache.Put(ctx, "GET https://example.com/", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		log.Fatal(err)
	}
	_ = front.Delete(ctx, "GET https://example.com/") // the front forgets (eviction)

	got, pol, _ := cache.Get(ctx, "GET https://example.com/") // authority hit, promoted
	fmt.Printf("%s, fresh: %v\n", got.Body, pol.TTL(time.Now()) > 0)
	got, _, _ = cache.Get(ctx, "GET https://example.com/") // front hit
	fmt.Printf("%s\n", got.Body)

	for _, t := range cache.Stats().Tiers {
		fmt.Printf("%s: hits %d, misses %d, promotions %d\n", t.Name, t.Hits, t.Misses, t.Promotions)
	}

	_ = cache.Close()
	_, _, err = cache.Get(ctx, "GET https://example.com/")
	fmt.Println(errors.Is(err, tiercache.ErrClosed))
	// Output:
	// hello, fresh: true
	// hello
	// front: hits 1, misses 1, promotions 1
	// authority: hits 1, misses 0, promotions 0
	// true
}
