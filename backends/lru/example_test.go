package lru_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
)

// An LRU tier bounded by 10,000 entries and 64 MiB.
func Example() {
	m, err := lru.New(lru.Config{MaxEntries: 10_000, MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	ctx := context.Background()
	resp := &tiercache.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain"}},
		Body:   []byte("hello"),
		URL:    "https://example.com/",
	}
	if _, err := m.Put(ctx, "GET https://example.com/", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		fmt.Println(err)
		return
	}

	got, pol, err := m.Get(ctx, "GET https://example.com/")
	if err != nil {
		fmt.Println(err)
		return
	}
	// got is the stored *Response itself: read it, do not modify it.
	fmt.Println(got.Status, string(got.Body), pol.TTL(time.Now()) > 0)

	miss, _, _ := m.Get(ctx, "GET https://example.com/other")
	fmt.Println(miss == nil)

	st := m.Stats()
	fmt.Printf("hits=%d misses=%d entries=%d\n", st.Hits, st.Misses, m.Len())
	// Output:
	// 200 hello true
	// true
	// hits=1 misses=1 entries=1
}

// Config.Now replaces the clock in tests, so that expiry needs no sleeping.
func ExampleConfig_now() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := lru.New(lru.Config{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	ctx := context.Background()
	resp := &tiercache.Response{Status: http.StatusOK, Body: []byte("soon stale")}
	m.Put(ctx, "k", resp, tiercache.NewTTLPolicy(time.Minute, tiercache.WithNow(now)))

	now = now.Add(59 * time.Second)
	got, _, _ := m.Get(ctx, "k")
	fmt.Println(got != nil)

	now = now.Add(time.Second)
	got, _, _ = m.Get(ctx, "k")
	fmt.Println(got != nil, m.Stats().Expired)
	// Output:
	// true
	// false 1
}

// Put refuses an entry larger than a shard's byte budget (MaxBytes/Shards).
func ExampleManager_Put_tooLarge() {
	m, err := lru.New(lru.Config{MaxBytes: 1 << 20, Shards: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	big := &tiercache.Response{Status: http.StatusOK, Body: make([]byte, 2<<20)}
	_, err = m.Put(context.Background(), "big", big, tiercache.NewTTLPolicy(time.Minute))
	fmt.Println(errors.Is(err, tiercache.ErrTooLarge))
	// Output:
	// true
}
