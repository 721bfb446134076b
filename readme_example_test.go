package tiercache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/backends/lru"
)

// A two-tier cache (an in-process LRU over compressed files on disk) that
// stores an HTTP response and reads it back. This example is the first
// snippet of the README, as the body of its main (TestReadmeSnippet keeps
// them equal).
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tiercache-") // in production a lasting directory, e.g. /var/cache/app
	if err != nil {
		log.Fatal(err)
	}
	front, err := lru.New(lru.Config{MaxEntries: 10_000, MaxBytes: 64 << 20}) // in-process, ~30 ns hits
	if err != nil {
		log.Fatal(err)
	}
	store, err := disk.New(disk.Config{Dir: dir, MaxBytes: 1 << 30})
	if err != nil {
		log.Fatal(err)
	}
	cache := tiercache.NewLayered([]tiercache.Manager{front, tiercache.Compress(store)})

	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		fmt.Fprint(w, "hello")
	})) // any HTTP origin
	defer origin.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin.URL+"/page", nil)
	if err != nil {
		log.Fatal(err)
	}
	httpResp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := tiercache.NewResponse(httpResp, 1<<20) // reads the body (at most 1 MiB) and puts it back
	if err != nil {
		log.Fatal(err)
	}

	key := "GET " + req.URL.String()
	if pol := tiercache.NewPolicy(req, httpResp); pol.Storable() { // RFC 9111: may it be stored, for how long
		if _, err := cache.Put(ctx, key, resp, pol); err != nil { // disk first (the authority), then the LRU
			log.Fatal(err)
		}
	}
	got, pol, err := cache.Get(ctx, key) // nil, nil, nil on a miss
	if err != nil {
		log.Fatal(err)
	}
	if got != nil {
		fmt.Printf("%d %s, fresh: %v\n", got.Status, got.Body, pol.TTL(time.Now()) > 0)
	}

	// A Layered does not own its tiers: close it, then each of them.
	if err := errors.Join(httpResp.Body.Close(), cache.Close(), front.Close(), store.Close(), os.RemoveAll(dir)); err != nil {
		log.Fatal(err)
	}
	// Output: 200 hello, fresh: true
}
