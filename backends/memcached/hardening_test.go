package memcached

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// Tests of issue 13 (fault hardening), items 7 and 8, each named after the
// defect it reproduces.

// TestHungServerCallsReturnAtContextDeadline: a Set on a hung server with a
// 100ms context deadline used to take the socket timeout (510ms with the
// default; here 5s), because only Get looked at the context. Every call
// must return at the deadline with an error wrapping DeadlineExceeded, and
// a cancelled context must end a call at once too.
func TestHungServerCallsReturnAtContextDeadline(t *testing.T) {
	const timeout = 5 * time.Second
	m := newManagerOn(t, hungServer(t), func(c *Config) { c.Timeout, c.MaxItemSize = timeout, 16<<10 })
	small, big := tiercachetest.Response("s", 100), tiercachetest.Response("b", 100<<10)
	ops := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Set", func(ctx context.Context) error { _, err := m.Put(ctx, "k", small, ttl(time.Hour)); return err }},
		{"chunked Set", func(ctx context.Context) error { _, err := m.Put(ctx, "k", big, ttl(time.Hour)); return err }},
		{"Delete", func(ctx context.Context) error { return m.Delete(ctx, "k") }},
		{"Get", func(ctx context.Context) error { _, _, err := m.Get(ctx, "k"); return err }},
	}
	for _, op := range ops {
		t.Run(op.name+"/deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := within(t, op.name, func() error { return op.call(ctx) })
			d := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
			}
			if d >= timeout {
				t.Errorf("returned after %v: the socket timeout, not the 100ms deadline", d)
			}
		})
		t.Run(op.name+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(bg)
			stop := time.AfterFunc(100*time.Millisecond, cancel)
			defer stop.Stop()
			start := time.Now()
			err := within(t, op.name, func() error { return op.call(ctx) })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want one wrapping context.Canceled", err)
			}
			if d := time.Since(start); d >= timeout {
				t.Errorf("returned after %v: the socket timeout, not the cancellation", d)
			}
		})
	}
}

// TestMissingChunksAreNotDeletedOneByOne: reading a chunk manifest whose
// chunks are missing used to delete every chunk key it names, one round
// trip each and ignoring the context: 4.2s for a forged manifest naming
// 65,536 chunks, 0.94s for a real 64 MiB value with one chunk evicted.
// Now the manifest is removed and the chunks are left to expire: no
// delete, and at most one batch of chunk keys read.
func TestMissingChunksAreNotDeletedOneByOne(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, m *Manager, c *memcache.Client, key string)
	}{
		{"forged manifest of 65536 chunks", func(t *testing.T, m *Manager, c *memcache.Client, key string) {
			man := manifest{gen: [genLen]byte{9, 9}, total: DefaultMaxValueSize, chunkSize: minChunkSize}
			mustDo(t, c.Set(&memcache.Item{Key: m.Store().ItemKey(key), Value: man.marshal(), Flags: flagManifest}))
		}},
		{"real value with one chunk evicted", func(t *testing.T, m *Manager, c *memcache.Client, key string) {
			_, keys := chunkedEntry(t, m, c, key)
			mustDo(t, c.Delete(keys[len(keys)/2]))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, srv := newTestManager(t, nil)
			c := raw(srv.Addr)
			tc.setup(t, m, c, "big")
			before := serverStats(t, srv)
			ctx, cancel := context.WithTimeout(bg, 2*time.Second)
			defer cancel()
			got, _, err := m.Get(ctx, "big")
			if err != nil || got != nil {
				t.Fatalf("Get = %v, %v; want a miss", got != nil, err)
			}
			after := serverStats(t, srv)
			deletes := after["delete_hits"] + after["delete_misses"] - before["delete_hits"] - before["delete_misses"]
			gets := after["cmd_get"] - before["cmd_get"]
			t.Logf("server saw %d deletes and %d key lookups", deletes, gets)
			if deletes != 0 {
				t.Errorf("%d deletes sent for one incomplete entry, want 0", deletes)
			}
			if gets > 1+getBatch+2 { // manifest, first batch, slack for the raw client
				t.Errorf("%d keys looked up for one incomplete entry, want at most %d", gets, 1+getBatch)
			}
			if _, err := c.Get(m.Store().ItemKey("big")); !errors.Is(err, memcache.ErrCacheMiss) {
				t.Errorf("manifest still readable: %v", err)
			}
		})
	}
}

// serverStats returns the numeric stats of srv.
func serverStats(t *testing.T, srv *memcachedtest.Server) map[string]int64 {
	t.Helper()
	st, err := srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int64, len(st))
	for k, v := range st {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// TestErrorsDoNotQuoteHugeKeys: a rejected 1 MiB key used to yield a 4 MB
// error string (the key quoted whole). Every error message stays short.
func TestErrorsDoNotQuoteHugeKeys(t *testing.T) {
	m := newManagerOn(t, "127.0.0.1:1", nil) // refuses every call
	key := strings.Repeat("\x01k", 512<<10)  // 1 MiB, %q would make it 4 MiB
	errs := map[string]error{}
	_, _, errs["Get"] = m.Get(bg, key)
	_, errs["Put"] = m.Put(bg, key, tiercachetest.Response("k", 10), ttl(time.Hour))
	errs["Delete"] = m.Delete(bg, key)
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s on a dead server: no error", name)
			continue
		}
		if n := len(err.Error()); n > 1024 {
			t.Errorf("%s error is %d bytes long: %.120s...", name, n, err.Error())
		}
	}
	if _, err := New(Config{Servers: []string{"127.0.0.1:1"}, Prefix: strings.Repeat("p ", 1<<19)}); err == nil || len(err.Error()) > 1024 {
		t.Errorf("bad 1 MiB prefix: error of %d bytes", len(err.Error()))
	}
}
