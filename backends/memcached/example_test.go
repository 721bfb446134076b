package memcached_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
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

// Example_cluster spreads keys over three servers on a consistent-hash ring
// (placed as libmemcached and twemproxy place them), keeps two copies of
// each entry, logs ejections, changes the servers at run time and reads
// the per-server counters. It needs the servers, so it is compiled but not
// run by go test.
func Example_cluster() {
	m, err := memcached.New(memcached.Config{
		Servers: []string{
			"10.0.0.1:11211",
			"10.0.0.2:11211",
			"10.0.0.3:11211 2", // weight 2: twice the keys
		},
		Replicas:   2,               // each Put writes 2 servers; losing one loses no hits
		EjectAfter: 2,               // consecutive failures before a server leaves the ring
		RetryAfter: 5 * time.Second, // then probed every 5s (backing off if it flaps)
		Logger:     slog.Default(),  // ejections, rejoins, failed probes
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// Add a fourth server while traffic runs: about a quarter of the keys
	// move to it.
	if err := m.SetServers("10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211 2", "10.0.0.4:11211"); err != nil {
		log.Fatal(err)
	}
	for _, s := range m.Stats().Servers {
		fmt.Printf("%s %s: %d gets, %d hits, %d errors, %d ejections\n", s.Server, s.State, s.Gets, s.Hits, s.Errors, s.Ejections)
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
