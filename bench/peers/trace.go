package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	arc "github.com/hashicorp/golang-lru/arc/v2"
	golru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/bench/workload"
)

// Trace mode: go run . -trace FILE replays a recorded trace (the formats of
// go run ./bench -trace) read-through, from one goroutine, through each
// cache below bounded by entries, and prints the hit ratio of each at each
// -sizes: the same table as the bench's, for the peers beside tiercache's
// own evictions, from one run.

type traceFlags struct {
	path, format, sizes string
}

// addTraceFlags registers the trace-mode flags on fs.
func addTraceFlags(fs *flag.FlagSet) *traceFlags {
	t := &traceFlags{}
	fs.StringVar(&t.path, "trace", "", "replay the trace `file` (ARC .lis or one key per line, zstd or plain) through every cache bounded by entries and print a hit-ratio table")
	fs.StringVar(&t.format, "trace-format", workload.FormatAuto, "format of -trace: lis, keys or auto")
	fs.StringVar(&t.sizes, "sizes", "", "comma-separated entry budgets for -trace (default: 1, 2, 5, 10 and 20% of the distinct keys)")
	return t
}

// traceCache is a cache bounded by entries, seen as a set of keys.
type traceCache struct {
	name string
	open func(size int) (get func(string) bool, add func(string), closeFn func(), err error)
}

// tiercacheTrace opens the lru backend with one exact order (one shard).
func tiercacheTrace(ev lru.Eviction) traceCache {
	return traceCache{"tiercache " + ev.String(), func(size int) (func(string) bool, func(string), func(), error) {
		m, err := lru.New(lru.Config{MaxEntries: size, MaxBytes: 1 << 50, Shards: 1, Eviction: ev})
		if err != nil {
			return nil, nil, nil, err
		}
		ctx, resp, pol := context.Background(), &tiercache.Response{Status: 200}, tiercache.NewTTLPolicy(24*time.Hour)
		get := func(k string) bool { r, _, _ := m.Get(ctx, k); return r != nil }
		add := func(k string) { m.Put(ctx, k, resp, pol) }
		return get, add, func() { m.Close() }, nil
	}}
}

var traceCaches = []traceCache{
	tiercacheTrace(lru.LRU), tiercacheTrace(lru.ARC), tiercacheTrace(lru.Adaptive),
	{"golang-lru LRU", func(size int) (func(string) bool, func(string), func(), error) {
		c, err := golru.New[string, struct{}](size)
		if err != nil {
			return nil, nil, nil, err
		}
		return func(k string) bool { _, ok := c.Get(k); return ok }, func(k string) { c.Add(k, struct{}{}) }, func() {}, nil
	}},
	{"golang-lru ARC", func(size int) (func(string) bool, func(string), func(), error) {
		c, err := arc.NewARC[string, struct{}](size)
		if err != nil {
			return nil, nil, nil, err
		}
		return func(k string) bool { _, ok := c.Get(k); return ok }, func(k string) { c.Add(k, struct{}{}) }, func() {}, nil
	}},
	{"golang-lru 2Q", func(size int) (func(string) bool, func(string), func(), error) {
		c, err := golru.New2Q[string, struct{}](size)
		if err != nil {
			return nil, nil, nil, err
		}
		return func(k string) bool { _, ok := c.Get(k); return ok }, func(k string) { c.Add(k, struct{}{}) }, func() {}, nil
	}},
	{"otter/v2", func(size int) (func(string) bool, func(string), func(), error) {
		c, err := otter.New(&otter.Options[string, struct{}]{MaximumSize: size})
		if err != nil {
			return nil, nil, nil, err
		}
		return func(k string) bool { _, ok := c.GetIfPresent(k); return ok }, func(k string) { c.Set(k, struct{}{}) }, func() {}, nil
	}},
	{"ristretto/v2", func(size int) (func(string) bool, func(string), func(), error) {
		c, err := ristretto.NewCache(&ristretto.Config[string, struct{}]{
			NumCounters: 10 * int64(size), MaxCost: int64(size), BufferItems: 64, IgnoreInternalCost: true,
		})
		if err != nil {
			return nil, nil, nil, err
		}
		// Wait after each Set: ristretto applies Sets from a buffer, and
		// a replay from one goroutine must see its own writes.
		add := func(k string) { c.Set(k, struct{}{}, 1); c.Wait() }
		return func(k string) bool { _, ok := c.Get(k); return ok }, add, c.Close, nil
	}},
}

// runTraceTable is trace mode; it returns the exit status.
func runTraceTable(t *traceFlags, workers int, stdout, stderr io.Writer) int {
	t0 := time.Now()
	tr, err := workload.ReadTraceFile(t.path, t.format)
	if err != nil {
		fmt.Fprintf(stderr, "peers: %v\n", err)
		return 1
	}
	sizes, err := parseSizes(t.sizes, len(tr.Keys))
	if err != nil {
		fmt.Fprintf(stderr, "peers: -sizes: %v\n", err)
		return 2
	}
	ratios := make([][]float64, len(sizes))
	errs := make([][]error, len(sizes))
	type job struct{ s, c int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for j := range jobs {
				ratios[j.s][j.c], errs[j.s][j.c] = replayCache(tr, traceCaches[j.c], sizes[j.s])
			}
		})
	}
	for s := range sizes {
		ratios[s], errs[s] = make([]float64, len(traceCaches)), make([]error, len(traceCaches))
		for c := range traceCaches {
			jobs <- job{s, c}
		}
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintf(stdout, "trace %s (%s): %d requests, %d distinct keys; every cache bounded by entries, read-through, one client\n\n",
		tr.Name, tr.Format, len(tr.Requests), len(tr.Keys))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "entries\t")
	for _, c := range traceCaches {
		fmt.Fprintf(tw, "%s\t", c.name)
	}
	fmt.Fprintln(tw)
	mean := make([]float64, len(traceCaches))
	for s, size := range sizes {
		fmt.Fprintf(tw, "%d\t", size)
		for c, r := range ratios[s] {
			if errs[s][c] != nil {
				fmt.Fprint(tw, "failed\t")
				continue
			}
			fmt.Fprintf(tw, "%.2f%%\t", 100*r)
			mean[c] += r / float64(len(sizes))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "mean\t")
	for _, r := range mean {
		fmt.Fprintf(tw, "%.2f%%\t", 100*r)
	}
	fmt.Fprintln(tw)
	tw.Flush()
	fmt.Fprintf(stdout, "\n%.1fs\n", time.Since(t0).Seconds())
	var all []error
	for s := range errs {
		for c, err := range errs[s] {
			if err != nil {
				all = append(all, fmt.Errorf("%s at %d entries: %w", traceCaches[c].name, sizes[s], err))
			}
		}
	}
	if err := errors.Join(all...); err != nil {
		fmt.Fprintf(stderr, "peers: %v\n", err)
		return 1
	}
	return 0
}

// parseSizes parses -sizes, defaulting to shares of the distinct keys.
func parseSizes(list string, keys int) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		var out []int
		for _, pct := range []int{1, 2, 5, 10, 20} {
			out = append(out, max(keys*pct/100, 1))
		}
		return out, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n > 1<<30 {
			return nil, fmt.Errorf("invalid size %q (want a positive entry count)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// replayCache replays tr read-through on a new cache of size entries.
func replayCache(tr *workload.KeyTrace, c traceCache, size int) (float64, error) {
	get, add, closeFn, err := c.open(size)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	hits := 0
	for _, r := range tr.Requests {
		k := tr.Keys[r]
		if get(k) {
			hits++
			continue
		}
		add(k)
	}
	return float64(hits) / float64(len(tr.Requests)), nil
}
