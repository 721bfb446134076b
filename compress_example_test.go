package tiercache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tiercache/tiercache"
)

// compressExampleStore stands in for a remote or disk tier: a map under a mutex.
type compressExampleStore struct {
	mu sync.Mutex
	m  map[string]*tiercache.Response
	p  map[string]*tiercache.Policy
}

func (s *compressExampleStore) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], s.p[key], nil
}

func (s *compressExampleStore) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key], s.p[key] = resp, pol
	return resp, nil
}

func (s *compressExampleStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	delete(s.p, key)
	return nil
}

// Compress wraps a lower tier so that it stores bodies compressed; Get
// decompresses transparently. In a stack, keep the in-process front
// uncompressed and compress the tiers below it, e.g.
// tiercache.NewLayered([]tiercache.Manager{lru, tiercache.Compress(disk)}).
func ExampleCompress() {
	ctx := context.Background()
	disk := &compressExampleStore{m: map[string]*tiercache.Response{}, p: map[string]*tiercache.Policy{}}
	m := tiercache.Compress(disk, tiercache.WithAlgorithm(tiercache.Zstd), tiercache.WithMinSize(512))

	body := []byte(strings.Repeat("<p>tiercache keeps this page compressed on disk.</p>\n", 200))
	resp := &tiercache.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/html"}}, Body: body}
	if _, err := m.Put(ctx, "/page", resp, tiercache.NewTTLPolicy(time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	got, _, err := m.Get(ctx, "/page")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same body:", bytes.Equal(got.Body, body))
	fmt.Println("stored smaller:", len(disk.m["/page"].Body) < len(body)/10)

	// Entries stored before Compress was added still read back as they are.
	old := &tiercache.Response{Status: http.StatusOK, Body: []byte("written before Compress")}
	_, _ = disk.Put(ctx, "/old", old, tiercache.NewTTLPolicy(time.Hour))
	got, _, _ = m.Get(ctx, "/old")
	fmt.Println("old entry:", string(got.Body))

	stats := m.(*tiercache.Compressor).Stats()
	fmt.Println("compressed:", stats.Compressed, "decompressed:", stats.Decompressed)
	// Output:
	// same body: true
	// stored smaller: true
	// old entry: written before Compress
	// compressed: 1 decompressed: 1
}

// A damaged entry is a miss, never an error of the tier: Compress deletes
// it and tells the hook, and a later Put stores the page again.
func ExampleWithCompressErrorHook() {
	ctx := context.Background()
	disk := &compressExampleStore{m: map[string]*tiercache.Response{}, p: map[string]*tiercache.Policy{}}
	m := tiercache.Compress(disk, tiercache.WithCompressErrorHook(func(key string, err error) {
		fmt.Printf("%s: corrupt: %v\n", key, errors.Is(err, tiercache.ErrCorrupt))
	}))
	body := []byte(strings.Repeat("<p>a page</p>\n", 200))
	resp := &tiercache.Response{Status: http.StatusOK, Body: body}
	if _, err := m.Put(ctx, "/page", resp, tiercache.NewTTLPolicy(time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	disk.m["/page"].Body[40] ^= 0xff // a bit flip on the way to disk and back

	got, _, err := m.Get(ctx, "/page")
	fmt.Println("hit:", got != nil, "error:", err)
	_, stillThere, _ := disk.Get(ctx, "/page")
	fmt.Println("kept:", stillThere != nil)
	// Output:
	// /page: corrupt: true
	// hit: false error: <nil>
	// kept: false
}
