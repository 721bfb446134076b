package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/memcached"
	"github.com/tiercache/tiercache/internal/memcachedtest"
)

// The purge guarantee across processes: two caches ("processes" A and B),
// each a Layered stack of its own LRU over one real memcached, behind a
// Transport or a Middleware. A purge in A is honoured by B at most the max
// age later (and within the bus latency with WithBus), although B keeps
// the purged entry in its private LRU.

// proc is one process's cache.
type proc struct {
	get    func(t *testing.T, path string, hdr ...string) result
	purger Purger
	stats  func() Stats
	base   string // the scheme and host of the URLs it caches
}

// twoProcs builds A and B of kind k over the memcached server at addr, on
// the clock clk, in front of one origin handler h.
func twoProcs(t *testing.T, k cacheKind, addr string, clk *fakeClock, h http.HandlerFunc, opts ...Option) (a, b *proc) {
	t.Helper()
	origin := httptest.NewServer(h)
	t.Cleanup(origin.Close)
	opts = append([]Option{WithPurge(true), WithClock(clk.Now)}, opts...)
	mk := func() *proc {
		front, err := lru.New(lru.Config{MaxEntries: 1000, MaxBytes: 8 << 20})
		if err != nil {
			t.Fatal(err)
		}
		shared, err := memcached.New(memcached.Config{Servers: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		stack := tiercache.NewLayered([]tiercache.Manager{front, shared})
		t.Cleanup(func() { stack.Close(); front.Close(); shared.Close() })
		if k == kindTransport {
			tr := New(stack, append(opts, WithTransport(origin.Client().Transport))...)
			t.Cleanup(func() { tr.Close() })
			return &proc{get: clientGet(tr, origin.URL), purger: tr, stats: tr.Stats, base: origin.URL}
		}
		mw := NewMiddleware(stack, opts...)
		srv := httptest.NewServer(mw.Wrap(h))
		client := &http.Transport{DisableCompression: true}
		t.Cleanup(func() { client.CloseIdleConnections(); srv.Close(); mw.Close() })
		// Both servers are asked for one host name, so that A and B key
		// requests alike, as two replicas behind a load balancer do.
		return &proc{get: clientGet(hostRoundTripper{client, "example.com"}, srv.URL), purger: mw, stats: mw.Stats, base: "http://example.com"}
	}
	return mk(), mk()
}

// hostRoundTripper sends every request with Host set to host.
type hostRoundTripper struct {
	rt   http.RoundTripper
	host string
}

func (h hostRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req.Host = h.host
	return h.rt.RoundTrip(req)
}

// clientGet returns a function sending GET base+path through rt.
func clientGet(rt http.RoundTripper, base string) func(t *testing.T, path string, hdr ...string) result {
	return func(t *testing.T, path string, hdr ...string) result {
		t.Helper()
		req := mustRequest(t, base+path)
		for _, kv := range hdr {
			k, v, _ := cut(kv)
			req.Header.Add(k, v)
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return result{code: resp.StatusCode, body: string(body), header: resp.Header, trailer: resp.Trailer}
	}
}

// taggedOrigin answers with Surrogate-Key: p, Vary: X-V and a body counting
// its requests.
func taggedOrigin() (http.HandlerFunc, *atomic.Int64) {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Surrogate-Key", "p")
		w.Header().Set("Vary", "X-V")
		io.WriteString(w, "v"+itoa(n.Add(1)))
	}, &n
}

func TestPurgeAcrossProcesses(t *testing.T) {
	srv := memcachedtest.Start(t)
	purges := []struct {
		name  string
		purge func(t *testing.T, p Purger, base string) error
	}{
		{"tag", func(t *testing.T, p Purger, base string) error { return p.PurgeTag(t.Context(), "p") }},
		{"URL", func(t *testing.T, p Purger, base string) error { return p.PurgeURL(t.Context(), base+"/x") }},
	}
	both(t, func(t *testing.T, k cacheKind) {
		for i, tc := range purges {
			t.Run(tc.name, func(t *testing.T) {
				clk := &fakeClock{t: time.Now()}
				h, _ := taggedOrigin()
				a, b := twoProcs(t, k, srv.Addr, clk, h, WithKeyFunc(prefixedKey(k.String()+tc.name+itoa(int64(i)))))
				// A stores both variants in memcached; B reads them into its
				// own LRU.
				for _, v := range []string{"X-V: 1", "X-V: 2"} {
					first := a.get(t, "/x", v)
					if r := b.get(t, "/x", v); r.body != first.body {
						t.Fatalf("B did not read A's entry: %q vs %q", r.body, first.body)
					}
					b.get(t, "/x", v)
				}
				old := map[string]bool{"v1": true, "v2": true}
				if err := tc.purge(t, a.purger, a.base); err != nil {
					t.Fatal(err)
				}
				for _, v := range []string{"X-V: 1", "X-V: 2"} {
					if r := a.get(t, "/x", v); old[r.body] {
						t.Fatalf("A served %q after its own purge", r.body)
					}
				}
				// Within the max age B still uses its copy of the
				// generation, and its private LRU still holds v1: the
				// bound is what makes B drop it.
				if r := b.get(t, "/x", "X-V: 1"); r.body != "v1" {
					t.Fatalf("B before the bound: %q", r.body)
				}
				clk.Advance(DefaultPurgeMaxAge)
				for _, v := range []string{"X-V: 1", "X-V: 2"} {
					if r := b.get(t, "/x", v); old[r.body] {
						t.Fatalf("B served the purged %q (%s) after the bound", r.body, r.status())
					}
				}
				if s := b.stats(); s.Purged == 0 || s.PurgeReads == 0 {
					t.Fatalf("B's stats %+v", s)
				}
			})
		}
	})
}

// With WithBus, B honours A's purge as soon as the message arrives, before
// the max age.
func TestPurgeAcrossProcessesBus(t *testing.T) {
	srv := memcachedtest.Start(t)
	both(t, func(t *testing.T, k cacheKind) {
		clk := &fakeClock{t: time.Now()}
		h, _ := taggedOrigin()
		a, b := twoProcs(t, k, srv.Addr, clk, h, WithBus(&memBus{}), WithKeyFunc(prefixedKey("bus"+k.String())))
		first := a.get(t, "/y", "X-V: 1")
		b.get(t, "/y", "X-V: 1")
		if r := b.get(t, "/y", "X-V: 1"); r.body != first.body {
			t.Fatalf("B: %q", r.body)
		}
		if err := a.purger.PurgeTag(t.Context(), "p"); err != nil {
			t.Fatal(err)
		}
		if r := b.get(t, "/y", "X-V: 1"); r.body == first.body {
			t.Fatalf("B served the purged %q with the bus up", r.body)
		}
	})
}

// prefixedKey keeps the keys of one test apart from the others' in the
// shared memcached.
func prefixedKey(prefix string) KeyFunc {
	return func(req *http.Request) string { return prefix + " " + DefaultKey(req) }
}

// memBus is an in-process tiercache.Bus: Publish delivers to every
// subscription before it returns.
type memBus struct {
	mu   sync.Mutex
	subs []tiercache.BusSubscriber
}

func (b *memBus) Publish(_ context.Context, m tiercache.BusMessage) error {
	b.mu.Lock()
	subs := slices.Clone(b.subs)
	b.mu.Unlock()
	for _, s := range subs {
		s.Receive(m)
	}
	return nil
}

func (b *memBus) Subscribe(s tiercache.BusSubscriber) (io.Closer, error) {
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	s.Up()
	return closerFunc(func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.subs = slices.DeleteFunc(b.subs, func(x tiercache.BusSubscriber) bool { return x == s })
		return nil
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
