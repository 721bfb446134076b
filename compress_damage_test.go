package tiercache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestCompressCorruptEntriesDoNotOpenBreaker (issue 13, item 6): Compress
// used to return ErrCorrupt for a damaged entry and keep it, so under
// tier.Breaker five damaged entries opened the circuit and healthy keys got
// ErrOpen. A damaged entry is now a miss that is deleted and reported
// through WithCompressErrorHook; an entry in a newer frame version is a
// reported miss that is kept.
func TestCompressCorruptEntriesDoNotOpenBreaker(t *testing.T) {
	ctx := context.Background()
	inner := newCompressFake()
	var mu sync.Mutex
	reported := map[string]error{}
	comp := tiercache.Compress(inner, tiercache.WithCompressErrorHook(func(key string, err error) {
		mu.Lock()
		defer mu.Unlock()
		reported[key] = err
	}))
	b := tier.Breaker(comp)
	page := compressPage(compressSpec()[:8192])
	tiercachetest.MustPut(t, b, "healthy", page, compressTTL())
	frame := inner.stored(t, "healthy")
	for i := range 2 * tier.DefaultThreshold {
		bad := []byte(string(frame))
		bad[len(bad)/2] ^= 0xff
		inner.setBody(fmt.Sprint("damaged", i), bad)
	}
	newer := compressFrame(0, 0, 4, compressCRC([]byte("body")), []byte("body"))
	newer[4] = 2 // a well-formed header of a newer writer
	fixHeaderCRC(newer)
	inner.setBody("newer", newer)

	for i := range 2 * tier.DefaultThreshold {
		tiercachetest.MustGet(t, b, fmt.Sprint("damaged", i), nil) // a miss, not an error
	}
	tiercachetest.MustGet(t, b, "newer", nil)
	if st := b.State(); st != tier.BreakerClosed {
		t.Fatalf("breaker %v after damaged entries, want closed", st)
	}
	tiercachetest.MustGet(t, b, "healthy", page)

	mu.Lock()
	defer mu.Unlock()
	for i := range 2 * tier.DefaultThreshold {
		key := fmt.Sprint("damaged", i)
		if err := reported[key]; !errors.Is(err, tiercache.ErrCorrupt) {
			t.Errorf("%s: reported %v, want ErrCorrupt", key, err)
		}
		if resp, _, _ := inner.Get(ctx, key); resp != nil {
			t.Errorf("%s: the damaged entry was kept", key)
		}
	}
	if err := reported["newer"]; !errors.Is(err, tiercache.ErrVersion) {
		t.Errorf("newer: reported %v, want ErrVersion", err)
	}
	if resp, _, _ := inner.Get(ctx, "newer"); resp == nil {
		t.Error("newer: an entry of a newer version was deleted; keep it for the readers that understand it")
	}
	if st := comp.(*tiercache.Compressor).Stats(); st.Corrupt != 2*tier.DefaultThreshold+1 {
		t.Errorf("Stats().Corrupt = %d, want %d", st.Corrupt, 2*tier.DefaultThreshold+1)
	}
}

// fixHeaderCRC recomputes the header checksum of a frame (bytes 20-23).
func fixHeaderCRC(f []byte) {
	c := compressCRC(f[:20])
	f[20], f[21], f[22], f[23] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
}

// TestCompressErrorsQuoteKeysShortly (issue 13, item 8): errors naming a
// key truncate it, so a 1 MiB key cannot make a megabyte-long error.
func TestCompressErrorsQuoteKeysShortly(t *testing.T) {
	huge := strings.Repeat("k", 1<<20)
	inner := newCompressFake()
	var reported error
	m := tiercache.Compress(inner, tiercache.WithCompressErrorHook(func(_ string, err error) { reported = err }))
	inner.setBody(huge, compressFrame(tiercache.Zstd, 0, 10, 0, []byte("garbage")))
	tiercachetest.MustGet(t, m, huge, nil)
	_, putErr := m.Put(context.Background(), huge, nil, compressTTL())
	for name, err := range map[string]error{
		"Compress.Get report": reported,
		"CheckPut":            tiercache.CheckPut(huge, nil, compressTTL()),
		"Compress.Put":        putErr,
	} {
		if err == nil || len(err.Error()) > 512 {
			t.Errorf("%s: error of %d bytes for a 1 MiB key, want a short one", name, len(fmt.Sprint(err)))
		}
	}
}
