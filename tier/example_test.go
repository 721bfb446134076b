package tier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
)

// page returns a response with a body of n bytes.
func page(n int) *tiercache.Response {
	return &tiercache.Response{Status: http.StatusOK, Header: http.Header{}, Body: []byte(strings.Repeat("x", n))}
}

// Prefix lets several users share one backend without key collisions.
func ExamplePrefix() {
	ctx := context.Background()
	store := newFake() // any tiercache.Manager: an LRU, memcached, disk
	users := tier.Prefix(store, "users/")
	orders := tier.Prefix(store, "orders/")
	_, _ = users.Put(ctx, "42", page(10), tiercache.NewTTLPolicy(time.Minute))
	_, _ = orders.Put(ctx, "42", page(20), tiercache.NewTTLPolicy(time.Minute))
	fmt.Println(store.keys())
	// Output: [orders/42 users/42]
}

// Admit keeps large bodies out of a small in-process front tier. A rejected
// Put also removes the older value, so the front never serves stale data.
func ExampleAdmit() {
	ctx := context.Background()
	front := tier.Admit(newFake(), tier.MaxBodySize(64<<10))
	pol := tiercache.NewTTLPolicy(time.Minute)
	_, _ = front.Put(ctx, "/doc", page(1<<10), pol)
	_, _ = front.Put(ctx, "/doc", page(1<<20), pol) // too large: not stored, older copy removed
	resp, _, _ := front.Get(ctx, "/doc")
	fmt.Println("hit:", resp != nil)
	// Output: hit: false
}

// WriteBack lets callers return before a slow tier has stored a write, while
// still reading their own writes. Close flushes the queue.
func ExampleWriteBack() {
	ctx := context.Background()
	slow := newFake() // e.g. a disk or memcached tier
	w := tier.WriteBack(slow, tier.WithQueueSize(256), tier.WithWorkers(2))
	_, _ = w.Put(ctx, "/a", page(3), tiercache.NewTTLPolicy(time.Minute))
	_ = w.Delete(ctx, "/b")
	resp, _, _ := w.Get(ctx, "/a") // served from the queue if not yet written
	fmt.Println("read own write:", len(resp.Body))
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("written:", slow.keys())
	_, _, err := w.Get(ctx, "/a")
	fmt.Println(errors.Is(err, tiercache.ErrClosed))
	// Output:
	// read own write: 3
	// written: [/a]
	// true
}

// Breaker and Timeout guard a remote tier: a deadline counts as a failure, and
// once the breaker is open no call reaches the tier until the cool-down ends.
func ExampleBreaker() {
	ctx := context.Background()
	remote := newFake()
	remote.setErr(errors.New("connection refused"))
	guarded := tier.Breaker(tier.Timeout(remote, 50*time.Millisecond),
		tier.WithThreshold(3), tier.WithCooldown(10*time.Second))
	for range 4 {
		_, _, err := guarded.Get(ctx, "/a")
		fmt.Println(guarded.State(), errors.Is(err, tier.ErrOpen))
	}
	// Output:
	// closed false
	// closed false
	// open false
	// open true
}

// ReadOnly reads a warm shared tier that other processes fill.
func ExampleReadOnly() {
	ctx := context.Background()
	shared := newFake()
	_, _ = shared.Put(ctx, "/a", page(1), tiercache.NewTTLPolicy(time.Minute)) // filled elsewhere
	ro := tier.ReadOnly(shared)
	_, _ = ro.Put(ctx, "/b", page(1), tiercache.NewTTLPolicy(time.Minute))
	_ = ro.Delete(ctx, "/a")
	fmt.Println(shared.keys())
	// Output: [/a]
}

// WriteBack bounds what a crash can lose in count (WithQueueSize) and in
// time (WithMaxDelay): writes wait rather than queue behind one that has
// waited 100 ms. Failed background writes, panics of the tier included,
// reach the hook.
func ExampleWithMaxDelay() {
	ctx := context.Background()
	slow := newFake()
	w := tier.WriteBack(slow, tier.WithQueueSize(256), tier.WithMaxDelay(100*time.Millisecond),
		tier.WithErrorHook(func(key string, err error) { fmt.Println("lost", key, err) }))
	for _, key := range []string{"/a", "/b"} {
		if _, err := w.Put(ctx, key, page(3), tiercache.NewTTLPolicy(time.Minute)); err != nil {
			fmt.Println(err)
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("written:", w.Stats().Written, slow.keys())
	// Output: written: 2 [/a /b]
}
