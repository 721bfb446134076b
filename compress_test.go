package tiercache_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// compressFake is an in-memory Manager: a map under a mutex. It keeps the
// *Response it is given, so tests can read and damage the stored bytes.
type compressFake struct {
	mu sync.Mutex
	m  map[string]compressEntry
}

type compressEntry struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
}

func newCompressFake() *compressFake { return &compressFake{m: map[string]compressEntry{}} }

func (f *compressFake) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[key]
	if !ok || e.pol.KeepFor(time.Now()) <= 0 {
		return nil, nil, nil // an entry past its retention is a miss
	}
	return e.resp, e.pol, nil
}

func (f *compressFake) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if pol.KeepFor(time.Now()) <= 0 {
		delete(f.m, key)
	} else {
		f.m[key] = compressEntry{resp, pol}
	}
	return resp, nil
}

func (f *compressFake) Delete(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	return nil
}

// stored returns the body the inner Manager holds under key.
func (f *compressFake) stored(t testing.TB, key string) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[key]
	if !ok {
		t.Fatalf("inner manager has no %q", key)
	}
	return e.resp.Body
}

// setBody stores body under key in the inner Manager, bypassing Compress.
func (f *compressFake) setBody(key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &tiercache.Response{Status: 200, Header: http.Header{"X-Test": {"1"}}, Body: body, URL: "https://example.com/" + key}
	f.m[key] = compressEntry{r, tiercache.NewTTLPolicy(time.Hour)}
}

var compressSpec = sync.OnceValue(func() []byte {
	b, err := os.ReadFile("testdata/go_spec.html")
	if err != nil {
		panic(err)
	}
	return b
})

func compressPage(body []byte) *tiercache.Response {
	return &tiercache.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:   body,
		URL:    "https://go.dev/ref/spec",
	}
}

func compressRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var compressTTL = func() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

var compressAlgorithms = []struct {
	name string
	opts []tiercache.CompressOption
	alg  tiercache.Algorithm
}{
	{"zstd", nil, tiercache.Zstd},
	{"zstd-best", []tiercache.CompressOption{tiercache.WithLevel(4)}, tiercache.Zstd},
	{"zstd-dict", []tiercache.CompressOption{tiercache.WithDictionary([]byte("<p>The Go Programming Language</p>"))}, tiercache.Zstd},
	{"s2", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.S2)}, tiercache.S2},
	{"s2-best", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.S2), tiercache.WithLevel(3)}, tiercache.S2},
	{"gzip", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.Gzip)}, tiercache.Gzip},
	{"gzip-9", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.Gzip), tiercache.WithLevel(9)}, tiercache.Gzip},
}

func TestCompressRoundTrip(t *testing.T) {
	bodies := map[string][]byte{
		"page":  compressSpec(),
		"text":  tiercachetest.Response("lorem ipsum", 4000).Body,
		"1KiB":  bytes.Repeat([]byte("a"), 1024),
		"mixed": append(bytes.Repeat([]byte("abc"), 2000), compressRandom(500, 1)...),
	}
	for _, a := range compressAlgorithms {
		for bname, body := range bodies {
			t.Run(a.name+"/"+bname, func(t *testing.T) {
				inner := newCompressFake()
				m := tiercache.Compress(inner, a.opts...)
				want := compressPage(body)
				tiercachetest.MustPut(t, m, "k", want, compressTTL())
				stored := inner.stored(t, "k")
				if len(stored) >= len(body) || string(stored[:4]) != "\xf5TCZ" || tiercache.Algorithm(stored[5]) != a.alg {
					t.Fatalf("stored %d bytes (of %d), head %q, want a smaller %s frame", len(stored), len(body), stored[:6], a.alg)
				}
				tiercachetest.MustGet(t, m, "k", want)
			})
		}
	}
}

func TestCompressRatio(t *testing.T) {
	inner := newCompressFake()
	m := tiercache.Compress(inner)
	tiercachetest.MustPut(t, m, "spec", compressPage(compressSpec()), compressTTL())
	ratio := float64(len(compressSpec())) / float64(len(inner.stored(t, "spec")))
	t.Logf("zstd default: %d -> %d bytes, ratio %.2f", len(compressSpec()), len(inner.stored(t, "spec")), ratio)
	if ratio < 3.0 {
		t.Fatalf("ratio %.2f, want >= 3.0", ratio)
	}
	if s := m.(*tiercache.Compressor).Stats(); s.Compressed != 1 || s.Ratio() != ratio {
		t.Fatalf("Stats = %+v, ratio %.2f", s, s.Ratio())
	}
}

func TestCompressSkips(t *testing.T) {
	text := bytes.Repeat([]byte("compressible "), 200)
	withHeader := func(k, v string) *tiercache.Response {
		r := compressPage(text)
		r.Header = http.Header{k: {v}}
		return r
	}
	cases := []struct {
		name     string
		resp     *tiercache.Response
		opts     []tiercache.CompressOption
		compress bool
	}{
		{"small", compressPage(text[:1023]), nil, false},
		{"at-threshold", compressPage(text[:1024]), nil, true},
		{"min-size-option", compressPage(text[:600]), []tiercache.CompressOption{tiercache.WithMinSize(512)}, true},
		{"gzip-encoded", withHeader("Content-Encoding", "gzip"), nil, false},
		{"br-encoded", withHeader("Content-Encoding", "identity, br"), nil, false},
		{"zstd-encoded", withHeader("Content-Encoding", "ZSTD"), nil, false},
		{"identity", withHeader("Content-Encoding", "identity"), nil, true},
		{"random", compressPage(compressRandom(64<<10, 2)), nil, false},
		{"random-s2", compressPage(compressRandom(64<<10, 3)), []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.S2)}, false},
		{"random-gzip", compressPage(compressRandom(64<<10, 4)), []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.Gzip)}, false},
		{"over-limit", compressPage(bytes.Repeat(text, 2)), []tiercache.CompressOption{tiercache.WithMaxDecodedSize(1024)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inner := newCompressFake()
			m := tiercache.Compress(inner, c.opts...)
			tiercachetest.MustPut(t, m, "k", c.resp, compressTTL())
			stored := inner.stored(t, "k")
			if framed := bytes.HasPrefix(stored, []byte("\xf5TCZ")); framed != c.compress {
				t.Fatalf("framed = %v (stored %d of %d bytes), want %v", framed, len(stored), len(c.resp.Body), c.compress)
			}
			if !c.compress && &stored[0] != &c.resp.Body[0] {
				t.Fatalf("skipped body was copied; want the caller's body passed through")
			}
			tiercachetest.MustGet(t, m, "k", c.resp)
			s := m.(*tiercache.Compressor).Stats()
			if want := map[bool]uint64{true: 0, false: 1}[c.compress]; s.Skipped != want {
				t.Fatalf("Stats.Skipped = %d, want %d", s.Skipped, want)
			}
		})
	}
}

func TestCompressReadsUnframed(t *testing.T) {
	bodies := map[string][]byte{
		"empty":  {},
		"html":   compressSpec()[:5000],
		"binary": compressRandom(3000, 5),
		"zstd":   {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0},
		"near":   []byte("\xf5TCy not a frame"),
		"short":  []byte("x"),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			inner := newCompressFake()
			inner.setBody("old", body)
			want, _, _ := inner.Get(context.Background(), "old")
			got, pol, err := tiercache.Compress(inner).Get(context.Background(), "old")
			if err != nil || pol == nil || got != want {
				t.Fatalf("Get = %p, %v, %v; want the inner response %p as it is", got, pol, err, want)
			}
		})
	}
}

// TestCompressEscapesFrameLikeBodies stores raw bodies that Get could take
// for a frame and reads them back exactly.
func TestCompressEscapesFrameLikeBodies(t *testing.T) {
	framed := compressPage(compressSpec())
	src := newCompressFake()
	tiercachetest.MustPut(t, tiercache.Compress(src), "f", framed, compressTTL())
	frame := src.stored(t, "f")
	damagedMagic := append([]byte("\x00TCZ"), frame[4:]...)
	for name, body := range map[string][]byte{
		"magic": []byte("\xf5TCZ raw"), "prefix": []byte("\xf5T"), "frame": frame, "damaged-magic": damagedMagic,
	} {
		t.Run(name, func(t *testing.T) {
			m := tiercache.Compress(newCompressFake(), tiercache.WithMinSize(1<<30))
			want := compressPage(body)
			tiercachetest.MustPut(t, m, "k", want, compressTTL())
			tiercachetest.MustGet(t, m, "k", want)
		})
	}
}

func TestCompressDoesNotMutate(t *testing.T) {
	for _, a := range compressAlgorithms {
		t.Run(a.name, func(t *testing.T) {
			resp := compressPage(append([]byte(nil), compressSpec()...))
			resp.Header.Set("ETag", `"v1"`)
			before := resp.Clone()
			body, header := resp.Body, resp.Header
			m := tiercache.Compress(newCompressFake(), a.opts...)
			got, err := m.Put(context.Background(), "k", resp, compressTTL())
			if err != nil || got != resp {
				t.Fatalf("Put = %p, %v; want the caller's pointer %p", got, err, resp)
			}
			if !tiercachetest.Equal(resp, before) || &resp.Body[0] != &body[0] || fmt.Sprint(resp.Header) != fmt.Sprint(header) {
				t.Fatalf("Put changed the caller's response")
			}
			tiercachetest.MustGet(t, m, "k", before)
		})
	}
}

func TestCompressPassThrough(t *testing.T) {
	ctx := context.Background()
	inner := newCompressFake()
	m := tiercache.Compress(inner)
	tiercachetest.MustGet(t, m, "absent", nil)
	tiercachetest.MustPut(t, m, "k", compressPage(compressSpec()), compressTTL())
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	tiercachetest.MustGet(t, m, "k", nil)
	expired := tiercache.NewTTLPolicy(time.Hour, tiercache.WithNow(time.Now().Add(-2*time.Hour)))
	if _, err := m.Put(ctx, "k", compressPage(compressSpec()), expired); err != nil {
		t.Fatal(err)
	}
	if s := m.(*tiercache.Compressor).Stats(); s.Compressed != 1 || s.Skipped != 0 {
		t.Fatalf("an expired Put was compressed: %+v", s)
	}
}

func TestCompressOptionsClamp(t *testing.T) {
	cases := []struct {
		name string
		opts []tiercache.CompressOption
		alg  tiercache.Algorithm
	}{
		{"unknown-algorithm", []tiercache.CompressOption{tiercache.WithAlgorithm(99)}, tiercache.Zstd},
		{"zstd-level-high", []tiercache.CompressOption{tiercache.WithLevel(100)}, tiercache.Zstd},
		{"zstd-level-low", []tiercache.CompressOption{tiercache.WithLevel(-7)}, tiercache.Zstd},
		{"s2-level-high", []tiercache.CompressOption{tiercache.WithLevel(9), tiercache.WithAlgorithm(tiercache.S2)}, tiercache.S2},
		{"gzip-level-high", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.Gzip), tiercache.WithLevel(42)}, tiercache.Gzip},
		{"limits", []tiercache.CompressOption{tiercache.WithMinSize(-1), tiercache.WithMaxDecodedSize(1 << 62)}, tiercache.Zstd},
		{"empty-dict", []tiercache.CompressOption{tiercache.WithDictionary(nil)}, tiercache.Zstd},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inner := newCompressFake()
			m := tiercache.Compress(inner, c.opts...)
			want := compressPage(compressSpec()[:4000])
			tiercachetest.MustPut(t, m, "k", want, compressTTL())
			if got := tiercache.Algorithm(inner.stored(t, "k")[5]); got != c.alg {
				t.Fatalf("stored with %s, want %s", got, c.alg)
			}
			tiercachetest.MustGet(t, m, "k", want)
		})
	}
}

// TestCompressReadsAnyAlgorithm reads entries written by one configuration
// through another.
func TestCompressReadsAnyAlgorithm(t *testing.T) {
	inner := newCompressFake()
	want := compressPage(compressSpec())
	for _, a := range compressAlgorithms[:len(compressAlgorithms)-1] {
		if a.name == "zstd-dict" {
			continue
		}
		tiercachetest.MustPut(t, tiercache.Compress(inner, a.opts...), a.name, want, compressTTL())
	}
	reader := tiercache.Compress(inner, tiercache.WithAlgorithm(tiercache.Gzip), tiercache.WithLevel(9))
	for _, a := range compressAlgorithms[:len(compressAlgorithms)-1] {
		if a.name != "zstd-dict" {
			tiercachetest.MustGet(t, reader, a.name, want)
		}
	}
}

func TestCompressConcurrent(t *testing.T) {
	m := tiercache.Compress(newCompressFake(), tiercache.WithMinSize(64))
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 60 {
				key := fmt.Sprintf("k%d", i%7)
				n := 64 + (i*g)%3000
				want := compressPage(compressSpec()[n : 2*n])
				if _, err := m.Put(ctx, key+fmt.Sprint(g), want, compressTTL()); err != nil {
					t.Error(err)
					return
				}
				got, _, err := m.Get(ctx, key+fmt.Sprint(g))
				if err != nil || !tiercachetest.Equal(got, want) {
					t.Errorf("Get(%s%d) = %v, wrong body or error", key, g, err)
					return
				}
				_, _, _ = m.Get(ctx, key+fmt.Sprint((g+1)%16)) // another goroutine's key
			}
		})
	}
	wg.Wait()
}

func TestCompressConformance(t *testing.T) {
	for _, a := range compressAlgorithms {
		for _, minSize := range []int{0, tiercache.DefaultCompressMinSize} {
			t.Run(fmt.Sprintf("%s/min%d", a.name, minSize), func(t *testing.T) {
				t.Parallel() // the suite's real-time waits overlap
				opts := append([]tiercache.CompressOption{tiercache.WithMinSize(minSize)}, a.opts...)
				tiercachetest.TestManager(t, func(*testing.T) tiercache.Manager {
					return tiercache.Compress(newCompressFake(), opts...)
				})
			})
		}
	}
}
