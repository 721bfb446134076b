package memcached

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestConformance(t *testing.T) {
	srv := memcachedtest.Start(t)
	var n atomic.Int64
	codecs := []struct {
		name  string
		codec codec.Codec
	}{{"Binary", nil}, {"Gob", codec.Gob{}}, {"JSON", codec.JSON{}}}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
				// A fresh prefix per subtest gives each an empty namespace.
				prefix := fmt.Sprintf("conf%d:", n.Add(1))
				return newManagerOn(t, srv.Addr, func(c2 *Config) { c2.Prefix, c2.Codec = prefix, c.codec })
			})
		})
	}
}

func TestRoundTrip(t *testing.T) {
	m, _ := newTestManager(t, nil)
	tests := []struct {
		key  string
		size int
	}{{"empty", 0}, {"small", 10}, {"page", 64 << 10}, {"near-limit", DefaultMaxItemSize - itemOverhead - 300}}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			want := tiercachetest.Response(tc.key, tc.size)
			tiercachetest.MustPut(t, m, tc.key, want, ttl(time.Hour))
			tiercachetest.MustGet(t, m, tc.key, want)
		})
	}
}

func TestAwkwardKeys(t *testing.T) {
	m, srv := newTestManager(t, nil)
	hashedLookalike := itemKey("", "x y") // a key that looks like a hashed key
	tests := []struct {
		name     string
		key      string
		readable bool // stored under the key itself
	}{
		{"plain", "GET:https://example.com/a?b=c", true},
		{"250 bytes", strings.Repeat("a", 250), true},
		{"251 bytes", strings.Repeat("a", 251), false},
		{"300 bytes", strings.Repeat("b", 300), false},
		{"space", "GET https://example.com/", false},
		{"unicode", "ünïcödé/日本", true},
		{"newline", "new\nline", false},
		{"control", "bell\a", false},
		{"DEL", "del\x7f", false},
		{"hashed lookalike", hashedLookalike, false},
		{"reserved prefix", "tc~anything", false},
		{"chunk lookalike", chunkTag + "00~0", false},
	}
	seen := map[string]string{}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ik := m.Store().ItemKey(tc.key)
			if got := ik == tc.key; got != tc.readable {
				t.Fatalf("ItemKey(%q) = %q; readable = %v, want %v", shortKey(tc.key), ik, got, tc.readable)
			}
			if !legalKey(ik) {
				t.Fatalf("ItemKey(%q) = %q is not a legal memcached key", shortKey(tc.key), ik)
			}
			if other, dup := seen[ik]; dup {
				t.Fatalf("keys %q and %q share item key %q", shortKey(tc.key), shortKey(other), ik)
			}
			seen[ik] = tc.key
			want := tiercachetest.Response(fmt.Sprint("awk", i), 100)
			tiercachetest.MustPut(t, m, tc.key, want, ttl(time.Hour))
			if tc.readable {
				if _, err := raw(srv.Addr).Get(tc.key); err != nil {
					t.Fatalf("plain key %q not stored under itself: %v", tc.key, err)
				}
			}
		})
	}
	for i, tc := range tests { // all still distinct after every Put
		tiercachetest.MustGet(t, m, tc.key, tiercachetest.Response(fmt.Sprint("awk", i), 100))
	}
}

func TestPrefix(t *testing.T) {
	srv := memcachedtest.Start(t)
	a := newManagerOn(t, srv.Addr, func(c *Config) { c.Prefix = "a:" })
	b := newManagerOn(t, srv.Addr, func(c *Config) { c.Prefix = "b:" })
	wantA := tiercachetest.Response("a", 50)
	tiercachetest.MustPut(t, a, "k", wantA, ttl(time.Hour))
	tiercachetest.MustGet(t, b, "k", nil)
	tiercachetest.MustGet(t, a, "k", wantA)
	if _, err := raw(srv.Addr).Get("a:k"); err != nil {
		t.Fatalf("prefixed item a:k: %v", err)
	}
}

func TestExpiryOnServer(t *testing.T) {
	m, srv := newTestManager(t, nil)
	want := tiercachetest.Response("short", 100)
	tiercachetest.MustPut(t, m, "short", want, ttl(time.Second))
	ik := m.Store().ItemKey("short")
	c := raw(srv.Addr)
	if _, err := c.Get(ik); err != nil {
		t.Fatalf("item missing right after Put: %v", err)
	}
	// The server's clock ticks in whole seconds: poll, bounded.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Get(ik)
		if errors.Is(err, errCacheMiss) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item still on the server 5s after a 1s lifetime (err %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tiercachetest.MustGet(t, m, "short", nil)
}

func TestClose(t *testing.T) {
	m, _ := newTestManager(t, nil)
	tiercachetest.MustPut(t, m, "k", tiercachetest.Response("k", 10), ttl(time.Hour))
	for range 2 { // idempotent
		if err := m.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	_, _, gerr := m.Get(bg, "k")
	_, perr := m.Put(bg, "k", tiercachetest.Response("k", 10), ttl(time.Hour))
	derr := m.Delete(bg, "k")
	for name, err := range map[string]error{"Get": gerr, "Put": perr, "Delete": derr} {
		if !errors.Is(err, tiercache.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestConfigInvalid(t *testing.T) {
	tests := []Config{
		{},
		{Servers: []string{"127.0.0.1:1"}, Prefix: "has space"},
		{Servers: []string{"127.0.0.1:1"}, Prefix: strings.Repeat("p", MaxPrefixLen+1)},
		{Servers: []string{"127.0.0.1:1"}, MaxItemSize: 100},
		{Servers: []string{"no-port"}},
		{Servers: []string{"127.0.0.1:1 0"}},
		{Servers: []string{"127.0.0.1:1", "127.0.0.1:1 2"}},
		{Servers: []string{"127.0.0.1:1"}, Replicas: maxReplicas + 1},
		{Servers: []string{"127.0.0.1:1"}, Selector: new(memcache.ServerList)},
		{Selector: new(memcache.ServerList), Replicas: 2},
	}
	for _, cfg := range tests {
		if _, err := New(cfg); !errors.Is(err, tiercache.ErrInvalid) {
			t.Errorf("New(%+v) error = %v, want ErrInvalid", cfg, err)
		}
	}
}
