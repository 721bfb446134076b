package expvar_test

import (
	"context"
	"encoding/json"
	"errors"
	stdexpvar "expvar"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/contrib/expvar"
	"github.com/tiercache/tiercache/tiercachetest"
)

// newStack returns lru > disk, named "lru" and "disk".
func newStack(t *testing.T) (*tiercache.Layered, *disk.Manager) {
	t.Helper()
	front, err := lru.New(lru.Config{MaxEntries: 100})
	if err != nil {
		t.Fatal(err)
	}
	d, err := disk.New(disk.Config{Dir: t.TempDir(), Sync: disk.NoSync})
	if err != nil {
		t.Fatal(err)
	}
	l := tiercache.NewLayered([]tiercache.Manager{front, d}, tiercache.WithTierNames("lru", "disk"))
	t.Cleanup(func() { _ = errors.Join(l.Close(), front.Close(), d.Close()) })
	return l, d
}

// published counts the names tests published: expvar's registry is
// process-wide and has no Unpublish, so each run (go test -count=N) needs
// names of its own.
var published atomic.Int64

// uniqueName returns base with a suffix no other call in this process got.
func uniqueName(base string) string {
	return fmt.Sprintf("%s_%d", base, published.Add(1))
}

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  json.RawMessage   `json:"value"`
}

// TestPublishServesDebugVars publishes a stack, runs a known sequence of
// calls and reads the values back from /debug/vars over HTTP.
func TestPublishServesDebugVars(t *testing.T) {
	l, d := newStack(t)
	name := uniqueName("tiercache_test_stack")
	if err := expvar.Publish(name, l); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stdexpvar.Handler())
	t.Cleanup(srv.Close)

	pol := tiercache.NewTTLPolicy(time.Hour)
	tiercachetest.MustPut(t, l, "a", tiercachetest.Response("a", 100), pol) // both tiers
	tiercachetest.MustPut(t, d, "b", tiercachetest.Response("b", 100), pol) // disk only
	for range 3 {
		tiercachetest.MustGet(t, l, "a", tiercachetest.Response("a", 100)) // lru hits
	}
	tiercachetest.MustGet(t, l, "b", tiercachetest.Response("b", 100)) // lru miss, disk hit
	tiercachetest.MustGet(t, l, "c", nil)                              // misses

	vars := getVars(t, srv.URL)
	var stack map[string][]sample
	if err := json.Unmarshal(vars[name], &stack); err != nil {
		t.Fatalf("%s: %v in %s", name, err, vars[name])
	}
	lruTier := map[string]string{"tier": "0", "name": "lru"}
	diskTier := map[string]string{"tier": "1", "name": "disk"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"layered.coalesced", nil, "0"},
		{"tier.hits", lruTier, "3"},
		{"tier.misses", lruTier, "2"},
		{"tier.promotions", lruTier, "1"},
		{"tier.hits", diskTier, "1"},
		{"tier.misses", diskTier, "1"},
		{"tier.errors", diskTier, "0"},
		{"disk.entries", diskTier, "2"},
		{"disk.hits", diskTier, "1"},
		{"disk.misses", diskTier, "1"},
		{"disk.max_size_bytes", diskTier, "1073741824"},
	} {
		got, ok := find(stack[c.name], c.labels)
		if !ok || string(got) != c.want {
			t.Errorf("%s%v = %s (found %v), want %s", c.name, c.labels, got, ok, c.want)
		}
	}
	lat, ok := find(stack["tier.request_duration"], diskTier)
	var l2 expvar.Latency
	if !ok || json.Unmarshal(lat, &l2) != nil {
		t.Fatalf("tier.request_duration of disk: %s", lat)
	}
	if l2.P99 > l2.Max || l2.Mean > l2.Max || (l2.Samples == 0) != (l2.Sum == 0) {
		t.Errorf("latency %+v inconsistent", l2)
	}
}

func getVars(t *testing.T, url string) map[string]json.RawMessage {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]json.RawMessage
	if err := json.Unmarshal(body, &vars); err != nil {
		t.Fatalf("/debug/vars is not JSON: %v", err)
	}
	return vars
}

func find(samples []sample, labels map[string]string) (json.RawMessage, bool) {
	for _, s := range samples {
		if len(s.Labels) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			match = match && s.Labels[k] == v
		}
		if match {
			return s.Value, true
		}
	}
	return nil, false
}

func TestPublishRefusesBadNames(t *testing.T) {
	l, _ := newStack(t)
	twice := uniqueName("tiercache_test_twice")
	if err := expvar.Publish(twice, l); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{twice, "", "memstats"} {
		if err := expvar.Publish(name, l); !errors.Is(err, tiercache.ErrInvalid) {
			t.Errorf("Publish(%q) = %v, want ErrInvalid", name, err)
		}
	}
}

// TestSnapshotOfAManager reads a bare backend: its values carry no tier
// labels.
func TestSnapshotOfAManager(t *testing.T) {
	_, d := newStack(t)
	if _, _, err := d.Get(context.Background(), "absent"); err != nil {
		t.Fatal(err)
	}
	snap := expvar.Snapshot(d)
	if s := snap["disk.misses"]; len(s) != 1 || s[0].Labels != nil || s[0].Value != uint64(1) {
		t.Fatalf("disk.misses = %+v", s)
	}
	if s := snap["disk.size_bytes"]; len(s) != 1 || s[0].Value != int64(0) {
		t.Fatalf("disk.size_bytes = %+v", s)
	}
}
