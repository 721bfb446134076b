package memcached

import (
	"errors"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestLargeValue(t *testing.T) {
	tests := []struct {
		name    string
		disable bool
		size    int
		wantErr error
	}{
		{"chunked 3MiB", false, 3 << 20, nil},
		{"chunked exact multiple", false, 2 * (DefaultMaxItemSize - itemOverhead), nil},
		{"chunking disabled", true, 3 << 20, tiercache.ErrTooLarge},
		{"over MaxValueSize", false, 9 << 20, tiercache.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestManager(t, func(c *Config) { c.DisableChunking, c.MaxValueSize = tc.disable, 8<<20 })
			old := tiercachetest.Response("old", 100)
			tiercachetest.MustPut(t, m, "big", old, ttl(time.Hour))
			want := tiercachetest.Response("big", tc.size)
			_, err := m.Put(bg, "big", want, ttl(time.Hour))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Put of %d bytes: error %v, want %v", tc.size, err, tc.wantErr)
			}
			if tc.wantErr != nil {
				tiercachetest.MustGet(t, m, "big", old) // a refused Put loses nothing
				return
			}
			tiercachetest.MustGet(t, m, "big", want)
			// Overwriting with a small value replaces the manifest.
			small := tiercachetest.Response("small", 10)
			tiercachetest.MustPut(t, m, "big", small, ttl(time.Hour))
			tiercachetest.MustGet(t, m, "big", small)
		})
	}
}

func TestServerItemLimitBelowConfig(t *testing.T) {
	m, _ := newTestManager(t, func(c *Config) { c.MaxItemSize = 4 << 20 }) // server has -I 1m
	_, err := m.Put(bg, "k", tiercachetest.Response("k", 2<<20), ttl(time.Hour))
	if !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put over the server's item limit: %v, want ErrTooLarge", err)
	}
	small := tiercachetest.Response("small", 100) // the connection pool still works
	tiercachetest.MustPut(t, m, "k", small, ttl(time.Hour))
	tiercachetest.MustGet(t, m, "k", small)
}

// chunkedEntry stores a 3 MiB value and returns its manifest and chunk keys.
func chunkedEntry(t *testing.T, m *Manager, c *memcache.Client, key string) (manifest, []string) {
	t.Helper()
	tiercachetest.MustPut(t, m, key, tiercachetest.Response(key, 3<<20), ttl(time.Hour))
	it, err := c.Get(m.Store().ItemKey(key))
	if err != nil || it.Flags != flagManifest {
		t.Fatalf("manifest item: %v, %+v", err, it)
	}
	man, err := parseManifest(it.Value, DefaultMaxValueSize)
	if err != nil {
		t.Fatal(err)
	}
	return man, m.Store().chunkKeys(man, 0, man.count())
}

func TestChunkDamage(t *testing.T) {
	tests := []struct {
		name       string
		damage     func(t *testing.T, c *memcache.Client, keys []string)
		wantReport bool
	}{
		{"missing first chunk", func(t *testing.T, c *memcache.Client, keys []string) {
			mustDo(t, c.Delete(keys[0]))
		}, false},
		{"missing last chunk", func(t *testing.T, c *memcache.Client, keys []string) {
			mustDo(t, c.Delete(keys[len(keys)-1]))
		}, false},
		{"flipped byte", func(t *testing.T, c *memcache.Client, keys []string) {
			it, err := c.Get(keys[1])
			mustDo(t, err)
			it.Value[100] ^= 1
			mustDo(t, c.Set(it))
		}, true},
		{"short chunk", func(t *testing.T, c *memcache.Client, keys []string) {
			mustDo(t, c.Set(&memcache.Item{Key: keys[1], Value: []byte("short"), Flags: flagChunk}))
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log errorLog
			m, srv := newTestManager(t, func(c *Config) { c.OnError = log.add })
			c := raw(srv.Addr)
			_, keys := chunkedEntry(t, m, c, "big")
			tc.damage(t, c, keys)
			tiercachetest.MustGet(t, m, "big", nil) // never a partial body
			// The manifest is gone; the chunks are left to expire (deleting
			// them would cost a round trip each).
			if _, err := c.Get(m.Store().ItemKey("big")); !errors.Is(err, memcache.ErrCacheMiss) {
				t.Errorf("manifest left behind after a damaged read: %v", err)
			}
			keysRep, errs := log.snapshot()
			if got := len(errs) > 0; got != tc.wantReport {
				t.Fatalf("reported %v (%v), want report %v", got, errs, tc.wantReport)
			}
			if tc.wantReport && (keysRep[0] != "big" || !errors.Is(errs[0], tiercache.ErrCorrupt)) {
				t.Fatalf("report (%q, %v), want (big, ErrCorrupt)", keysRep[0], errs[0])
			}
		})
	}
}

// TestConcurrentChunkedOverwrite checks that readers racing with writers of
// one key only ever see one of the complete values.
func TestConcurrentChunkedOverwrite(t *testing.T) {
	m, _ := newTestManager(t, nil)
	values := []*tiercache.Response{tiercachetest.Response("one", 2<<20), tiercachetest.Response("two", 2<<20+7)}
	done := make(chan error, 4)
	for w := range 2 {
		go func() {
			for range 3 {
				if _, err := m.Put(bg, "race", values[w], ttl(time.Hour)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		go func() {
			for range 6 {
				got, _, err := m.Get(bg, "race")
				if err != nil {
					done <- err
					return
				}
				if got != nil && !tiercachetest.Equal(got, values[0]) && !tiercachetest.Equal(got, values[1]) {
					done <- errors.New("read a value that was never written")
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
