package redis_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/redis"
)

// Example stores and reads back a response. It needs a Redis on
// 127.0.0.1:6379, so it is compiled but not run by go test.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // Config.Timeout reaches the socket
		DialerRetries:         1,    // a dead server fails at once
		MaxRetries:            -1,
	})
	defer rdb.Close()
	m, err := redis.New(redis.Config{Client: rdb, Prefix: "myapp:cache:", Logger: slog.Default()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	ctx := context.Background()
	resp := &tiercache.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("hello")}
	if _, err := m.Put(ctx, "GET https://example.com/", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		log.Fatal(err) // e.g. the server is down
	}
	got, _, err := m.Get(ctx, "GET https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	if got != nil {
		fmt.Printf("%d %s\n", got.Status, got.Body)
	}
}

// ExampleNewBus keeps the LRU fronts of several processes coherent over one
// Redis: run the same code in each process. A Put or Delete in one process
// removes the key from the others' fronts within the bus latency; if a
// message is lost, their copies live at most WithBusMaxAge. It needs a
// Redis on 127.0.0.1:6379, so it is compiled but not run by go test.
func ExampleNewBus() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1})
	defer rdb.Close()
	shared, err := redis.New(redis.Config{Client: rdb, Prefix: "myapp:cache:"})
	if err != nil {
		log.Fatal(err)
	}
	defer shared.Close()
	bus, err := redis.NewBus(redis.BusConfig{Client: rdb, Channel: "myapp:cache:invalidate"})
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	front, err := lru.New(lru.Config{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer front.Close()

	cache := tiercache.NewLayered([]tiercache.Manager{front, shared},
		tiercache.WithBus(bus), tiercache.WithBusMaxAge(30*time.Second),
		tiercache.WithErrorHook(func(tier int, op, key string, err error) {
			log.Printf("cache tier %d %s %q: %v", tier, op, key, err) // tier -1: the bus
		}))
	defer cache.Close() // before the bus and tiers: it unsubscribes

	ctx := context.Background()
	resp := &tiercache.Response{Status: http.StatusOK, Body: []byte("v2")}
	if _, err := cache.Put(ctx, "GET https://example.com/", resp, tiercache.NewTTLPolicy(time.Hour)); err != nil {
		log.Print(err)
	}
	fmt.Println(cache.BusStats().Publishes)
}

// ExampleStore_ItemKey shows which Redis key an entry lives under: keys up
// to MaxKeyLen bytes are stored as they are, longer ones hashed. It needs no
// server.
func ExampleStore_ItemKey() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	s, err := redis.NewStore(redis.Config{Client: rdb, Prefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.ItemKey("GET https://example.com/a b"))
	fmt.Println(len(s.ItemKey(string(make([]byte, 2000)))))
	// Output:
	// myapp:GET https://example.com/a b
	// 54
}
