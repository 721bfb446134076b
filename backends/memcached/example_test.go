package memcached_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/memcached"
)

// Example stores and reads back a response. It needs a memcached on
// 127.0.0.1:11211, so it is compiled but not run by go test.
func Example() {
	m, err := memcached.New(memcached.Config{
		Servers: []string{"127.0.0.1:11211"},
		Prefix:  "myapp:",
		Timeout: 200 * time.Millisecond,
		OnError: func(key string, err error) { log.Printf("cache entry %q dropped: %v", key, err) },
	})
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

// ExampleStore_ItemKey shows which memcached key an entry lives under: plain
// keys stay readable, others are hashed. It needs no server.
func ExampleStore_ItemKey() {
	s, err := memcached.NewStore(memcached.Config{Servers: []string{"127.0.0.1:11211"}, Prefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.ItemKey("GET:https://example.com/a"))
	fmt.Println(s.ItemKey("GET https://example.com/a")) // has a space
	// Output:
	// myapp:GET:https://example.com/a
	// myapp:tc~h~kc1ho2rpnUSPFa36sItftqDklrpHP91vgtNkI_DWTEQ
}
