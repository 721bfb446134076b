package redis

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
	"github.com/tiercache/tiercache/internal/redistest"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	setups := []struct {
		name  string
		aware bool // ContextTimeoutEnabled: direct calls; else detached
		codec codec.Codec
	}{
		{"Binary", true, nil},
		{"Gob", true, codec.Gob{}},
		{"JSON", true, codec.JSON{}},
		{"Binary-detached", false, nil},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			client := newClient(t, srv.Addr, s.aware)
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
				// A fresh prefix per subtest gives each an empty namespace.
				prefix := fmt.Sprintf("conf%d:", n.Add(1))
				return newManager(t, client, func(c *Config) { c.Prefix, c.Codec = prefix, s.codec })
			})
		})
	}
}

func TestConformanceCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	client := newClusterClient(t, cl)
	var n atomic.Int64
	tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
		return newManager(t, client, func(c *Config) { c.Prefix = fmt.Sprintf("cl%d:", n.Add(1)) })
	})
	// The keys really are spread over the three masters.
	for _, node := range cl.Nodes {
		if keys, err := redistest.Command(node.Addr, "DBSIZE"); err != nil || keys == "0" {
			t.Errorf("master %s holds %s keys (%v); want some", node.Addr, keys, err)
		}
	}
}

func TestKeys(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	m := newManager(t, client, func(c *Config) { c.Prefix = "p:" })
	hashedLookalike := itemKey("", strings.Repeat("x", MaxKeyLen+1))
	tests := []struct {
		name     string
		key      string
		readable bool // stored under Prefix + key itself
	}{
		{"plain", "GET https://example.com/a?b=c", true},
		{"binary", "nul\x00byte\r\n\xff space", true},
		{"unicode", "ünïcödé/日本", true},
		{"at the limit", strings.Repeat("a", MaxKeyLen), true},
		{"over the limit", strings.Repeat("a", MaxKeyLen+1), false},
		{"empty", "", false},
		{"reserved prefix", "tc~anything", false},
		{"hashed lookalike", hashedLookalike, false},
	}
	seen := map[string]string{}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ik := m.Store().ItemKey(tc.key)
			if got := ik == "p:"+tc.key; got != tc.readable {
				t.Fatalf("ItemKey(%q) = %q; readable = %v, want %v", tc.key, ik, got, tc.readable)
			}
			if !tc.readable && (len(ik) != len("p:"+hashedTag)+hashedLen || !strings.HasPrefix(ik, "p:"+hashedTag)) {
				t.Fatalf("hashed ItemKey(%q) = %q, want p:tc~h~ and 43 characters", tc.key, ik)
			}
			if other, dup := seen[ik]; dup {
				t.Fatalf("keys %q and %q share Redis key %q", tc.key, other, ik)
			}
			seen[ik] = tc.key
			if tc.key == "" {
				return // Put refuses the empty key
			}
			tiercachetest.MustPut(t, m, tc.key, tiercachetest.Response(fmt.Sprint("k", i), 50), ttl(time.Hour))
			if n, err := client.Exists(bg, ik).Result(); err != nil || n != 1 {
				t.Fatalf("EXISTS %q = %d, %v after Put", ik, n, err)
			}
		})
	}
	for i, tc := range tests[:len(tests)-3] { // still distinct after every Put
		if tc.key != "" {
			tiercachetest.MustGet(t, m, tc.key, tiercachetest.Response(fmt.Sprint("k", i), 50))
		}
	}
}

func TestPrefixIsolates(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	a := newManager(t, client, func(c *Config) { c.Prefix = "a:" })
	b := newManager(t, client, func(c *Config) { c.Prefix = "b:" })
	want := tiercachetest.Response("a", 50)
	tiercachetest.MustPut(t, a, "k", want, ttl(time.Hour))
	tiercachetest.MustGet(t, b, "k", nil)
	tiercachetest.MustGet(t, a, "k", want)
}

func TestExpiry(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{time.Nanosecond, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{1500 * time.Microsecond, 2 * time.Millisecond},
		{time.Second, time.Second},
		{time.Hour + time.Nanosecond, time.Hour + time.Millisecond},
	}
	for _, tc := range tests {
		if got := expiry(tc.in); got != tc.want {
			t.Errorf("expiry(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestExpiryOnServer: the server holds each entry with a millisecond expiry
// from its retention (PX, not whole seconds) and drops it when it ends.
func TestExpiryOnServer(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	m := newManager(t, client, nil)
	const keep = 1234567*time.Millisecond + 500*time.Microsecond // PX 1234568
	if err := m.Store().Set(bg, "px", []byte("v"), keep); err != nil {
		t.Fatal(err)
	}
	pttl, err := client.PTTL(bg, "px").Result()
	if err != nil || pttl > 1234568*time.Millisecond || pttl < 1234568*time.Millisecond-time.Minute {
		t.Fatalf("PTTL = %v, %v; want just under 1234568ms (EX would round to 1235s)", pttl, err)
	}
	tiercachetest.MustPut(t, m, "policy", tiercachetest.Response("p", 10), ttl(90*time.Minute))
	if pttl, err := client.PTTL(bg, m.Store().ItemKey("policy")).Result(); err != nil || pttl <= 0 || pttl > 90*time.Minute {
		t.Fatalf("PTTL after Put = %v, %v; want an expiry of at most the policy's 90m", pttl, err)
	}
	tiercachetest.MustPut(t, m, "short", tiercachetest.Response("s", 10), ttl(30*time.Millisecond))
	waitFor(t, "the server to expire the entry", func() bool {
		n, err := client.Exists(bg, m.Store().ItemKey("short")).Result()
		return err == nil && n == 0
	})
}

func TestTooLargeIsNotSent(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	m := newManager(t, client, func(c *Config) { c.MaxValueBytes = 4096 })
	old := tiercachetest.Response("old", 100)
	tiercachetest.MustPut(t, m, "k", old, ttl(time.Hour))
	before := setCalls(t, client)
	_, err := m.Put(bg, "k", tiercachetest.Response("big", 8192), ttl(time.Hour))
	if !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put of 8 KiB with MaxValueBytes 4096 = %v, want ErrTooLarge", err)
	}
	if after := setCalls(t, client); after != before {
		t.Fatalf("SET calls went from %s to %s for a refused value", before, after)
	}
	tiercachetest.MustGet(t, m, "k", old)
}

// setCalls returns the server's count of SET commands.
func setCalls(t *testing.T, c *goredis.Client) string {
	t.Helper()
	info, err := c.Info(bg, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, "cmdstat_set:") {
			return strings.SplitN(line, ",", 2)[0]
		}
	}
	return "none"
}

func TestCorruptEntryIsDroppedAndReported(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	var reported atomic.Value
	m := newManager(t, client, func(c *Config) {
		c.OnError = func(key string, err error) { reported.Store(key + ": " + err.Error()) }
	})
	ik := m.Store().ItemKey("k")
	if err := client.Set(bg, ik, "not an encoded entry", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	tiercachetest.MustGet(t, m, "k", nil)
	if r, _ := reported.Load().(string); !strings.HasPrefix(r, "k: ") {
		t.Fatalf("OnError got %q, want a report for k", r)
	}
	if n, _ := client.Exists(bg, ik).Result(); n != 0 {
		t.Fatal("the corrupt entry was not deleted")
	}
	if st := m.Stats(); st.Corrupt != 1 {
		t.Fatalf("Stats().Corrupt = %d, want 1", st.Corrupt)
	}
}

func TestInvalidConfig(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no client", Config{}},
		{"typed nil client", Config{Client: (*goredis.Client)(nil)}},
		{"long prefix", Config{Client: client, Prefix: strings.Repeat("p", MaxPrefixLen+1)}},
		{"negative timeout", Config{Client: client, Timeout: -1}},
		{"negative max value", Config{Client: client, MaxValueBytes: -1}},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg); !errors.Is(err, tiercache.ErrInvalid) {
			t.Errorf("%s: New = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := NewBus(BusConfig{}); !errors.Is(err, tiercache.ErrInvalid) {
		t.Errorf("NewBus without a client = %v, want ErrInvalid", err)
	}
}

func TestClosed(t *testing.T) {
	srv := redistest.Start(t)
	m := newManager(t, newClient(t, srv.Addr, true), nil)
	_ = m.Close()
	_ = m.Close()
	if _, _, err := m.Get(bg, "k"); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if _, err := m.Put(bg, "k", tiercachetest.Response("v", 1), ttl(time.Hour)); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Put after Close = %v", err)
	}
	if err := m.Delete(bg, "k"); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Delete after Close = %v", err)
	}
}
