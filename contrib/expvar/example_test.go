package expvar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/contrib/expvar"
)

// Publish a stack's metrics under "cache" in /debug/vars: a program that
// serves http.DefaultServeMux (or expvar.Handler()) serves them.
func Example() {
	front, err := lru.New(lru.Config{MaxEntries: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	defer front.Close()
	stack := tiercache.NewLayered([]tiercache.Manager{front}, tiercache.WithTierNames("lru"))
	defer stack.Close()
	if err := expvar.Publish("cache", stack); err != nil {
		log.Fatal(err)
	}
	// go http.ListenAndServe("localhost:8080", nil) // GET /debug/vars

	ctx := context.Background()
	resp := &tiercache.Response{Status: 200, Body: []byte("hello")}
	if _, err := stack.Put(ctx, "k", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		log.Fatal(err)
	}
	_, _, _ = stack.Get(ctx, "k")
	hits, _ := json.Marshal(expvar.Snapshot(stack)["tier.hits"])
	fmt.Println(string(hits))
	// Output: [{"labels":{"name":"lru","tier":"0"},"value":1}]
}
