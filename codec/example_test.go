package codec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// exampleEntry returns a response and its policy, received at a fixed time.
func exampleEntry() (*tiercache.Response, *tiercache.Policy, time.Time) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{"Cache-Control": {"max-age=60"}, "Content-Type": {"text/plain"}}
	pol := tiercache.NewPolicy(nil, &http.Response{StatusCode: 200, Header: h}, tiercache.WithNow(now))
	return &tiercache.Response{Status: 200, Header: h, Body: []byte("hello"), URL: "https://example.com/"}, pol, now
}

func ExampleBinary() {
	resp, pol, now := exampleEntry()
	data, err := codec.Binary{}.Encode(resp, pol)
	if err != nil {
		panic(err)
	}
	got, gotPol, err := codec.Binary{}.Decode(data) // got.Body aliases data
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Status, got.Header.Get("Content-Type"), string(got.Body), gotPol.TTL(now.Add(10*time.Second)))

	data[len(data)/2] ^= 1 // one flipped bit
	_, _, err = codec.Binary{}.Decode(data)
	fmt.Println(errors.Is(err, tiercache.ErrCorrupt))
	// Output:
	// 200 text/plain hello 50s
	// true
}

func ExampleBinary_Append() {
	resp, pol, _ := exampleEntry()
	buf := make([]byte, 0, 1024) // reused across calls: no allocation
	buf, err := codec.Binary{}.Append(buf[:0], resp, pol)
	if err != nil {
		panic(err)
	}
	_, _, err = codec.Binary{MaxSize: 16}.Decode(buf)
	fmt.Println(errors.Is(err, tiercache.ErrTooLarge))
	// Output: true
}

func ExampleJSON() {
	resp, pol, _ := exampleEntry()
	data, err := codec.JSON{}.Encode(resp, pol)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))
	// Output:
	// {"v":1,"status":200,"url":"https://example.com/","header":{"Cache-Control":["max-age=60"],"Content-Type":["text/plain"]},"body":"aGVsbG8=","policy":{"v":1,"flags":0,"born":1735732800000000000,"lifetime":60000000000}}
}

// mapStore is a minimal tiercache.Store for the example.
type mapStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *mapStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.m[key]), nil
}

func (s *mapStore) Set(_ context.Context, key string, value []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = bytes.Clone(value)
	return nil
}

func (s *mapStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func ExampleNewManager() {
	ctx := context.Background()
	resp, pol, now := exampleEntry()
	store := &mapStore{m: map[string][]byte{}}
	m := codec.NewManager(store,
		codec.WithCodec(codec.Gob{}),
		codec.WithClock(func() time.Time { return now }),
		codec.WithOnError(func(key string, err error) { fmt.Println("dropped", key) }),
	)
	if _, err := m.Put(ctx, "page", resp, pol); err != nil {
		panic(err)
	}
	got, _, err := m.Get(ctx, "page")
	fmt.Println(string(got.Body), err)

	store.m["page"] = []byte("garbage") // a corrupt entry is a miss, removed and reported
	got, _, err = m.Get(ctx, "page")
	fmt.Println(got == nil, err, m.Stats().Corrupt)
	// Output:
	// hello <nil>
	// dropped page
	// true <nil> 1
}
