// Command peers replays the workload of go run ./bench (package
// bench/workload) through peer cache libraries used as the front tier, next
// to tiercache's own lru backend, and prints one row per library.
//
//	cd bench/peers && go run . [flags]
//
// It lives in its own module so that tiercache users never download the
// peers. Object caches store the shared *Response and *Policy; byte caches
// (bigcache, httpcache) store the codec.Binary encoding, so their rows
// include an encode per Put and a decode per hit, as a tier of theirs would.
//
// With -transport it compares caching http.RoundTrippers instead: a fresh
// hit through tiercache's httpcache.Transport over the lru backend and
// through gregjones/httpcache.Transport over its MemoryCache, against the
// same local origin (the figures of BenchmarkTransportHit, side by side).
//
// With -redis it compares two-tier stacks over one Redis instead: tiercache's
// lru > redis (with and without the invalidation bus) and go-redis/cache
// (its TinyLFU local cache + Redis), on the same trace and server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tiercache/tiercache/bench/workload"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Row is the result of one peer.
type Row struct {
	Peer      string  `json:"peer"`
	Bound     string  `json:"bound"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50Us     float64 `json:"p50_us"`
	P99Us     float64 `json:"p99_us"`
	P999Us    float64 `json:"p999_us"`
	HitRatio  float64 `json:"hit_ratio"`
	Errors    int64   `json:"errors"`
	Error     string  `json:"error,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	c := workload.DefaultConfig()
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Keys, "keys", c.Keys, "number of distinct keys")
	fs.Float64Var(&c.Skew, "skew", c.Skew, "Zipf exponent of key popularity")
	fs.IntVar(&c.Ops, "ops", c.Ops, "measured operations per peer")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "operations replayed before measuring")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the workload")
	bytes := fs.Int64("bytes", 64<<20, "memory budget of the front cache in bytes")
	conc := fs.Int("concurrency", runtime.GOMAXPROCS(0), "concurrent clients")
	names := make([]string, len(peers))
	for i, p := range peers {
		names[i] = p.name
	}
	list := fs.String("peers", strings.Join(names, ","), "comma-separated peers to run")
	jsonPath := fs.String("json", "", "write the rows as JSON to `file`")
	trace := addTraceFlags(fs) // trace.go
	transport := fs.Bool("transport", false, "compare caching http.RoundTrippers instead (tiercache httpcache vs gregjones/httpcache, fresh hit)")
	redisAddr := fs.String("redis", "", "compare two-tier stacks over Redis instead (tiercache lru > redis vs go-redis/cache): \"start\" runs redis-server from PATH, or give host:port")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := c.Validate(); err != nil || *bytes <= 0 || *conc <= 0 {
		fmt.Fprintf(stderr, "peers: invalid flags: %v\n", errors.Join(err, errors.New("-bytes and -concurrency must be positive")))
		return 2
	}
	if *transport {
		return runTransport(stdout)
	}
	if trace.path != "" {
		return runTraceTable(trace, *conc, stdout, stderr)
	}
	var chosen []peer
	for _, n := range strings.Split(*list, ",") {
		i := slices.IndexFunc(peers, func(p peer) bool { return p.name == strings.TrimSpace(n) })
		if i < 0 {
			fmt.Fprintf(stderr, "peers: %v %q (want some of %s)\n", errUnknownPeer, n, strings.Join(names, ", "))
			return 2
		}
		chosen = append(chosen, peers[i])
	}
	w, err := workload.New(c)
	if err != nil {
		fmt.Fprintf(stderr, "peers: %v\n", err)
		return 1
	}
	var mean int64
	for i, r := range w.Responses {
		mean += int64(r.Size() + len(w.Keys[i]))
	}
	mean /= int64(len(w.Responses))
	b := budget{bytes: *bytes, entries: int(*bytes / mean)}
	fmt.Fprintf(stdout, "workload: %d keys, Zipf %.2f, %d warm-up + %d measured ops, %d clients; front budget %d MiB (%d entries of the mean size %d B)\n\n",
		c.Keys, c.Skew, c.Warmup, c.Ops, *conc, b.bytes>>20, b.entries, mean)
	if *redisAddr != "" {
		return runRedis(*redisAddr, b, w, *conc, *jsonPath, stdout, stderr) // redis.go
	}
	var rows []Row
	for _, p := range chosen {
		rows = append(rows, measure(p, b, w, *conc))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "peer\tbound\tops/s\tp50\tp99\tp99.9\thit\terrors\t")
	for _, r := range rows {
		if r.Error != "" && r.OpsPerSec == 0 {
			fmt.Fprintf(tw, "%s\t%s\tfailed: %s\t\t\t\t\t\t\n", r.Peer, r.Bound, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1fµs\t%.1fµs\t%.1fµs\t%.1f%%\t%d\t\n", r.Peer, r.Bound, r.OpsPerSec, r.P50Us, r.P99Us, r.P999Us, 100*r.HitRatio, r.Errors)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" && r.OpsPerSec > 0 {
			fmt.Fprintf(stdout, "%s: %d errors, first: %s\n", r.Peer, r.Errors, r.Error)
		}
	}
	fmt.Fprintln(stdout, "\nunbounded peers keep every key they are given: their hit ratio is the ceiling of this trace, not a comparable figure.")
	if *jsonPath != "" {
		data, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(*jsonPath, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "peers: %v\n", err)
			return 1
		}
	}
	return 0
}

func measure(p peer, b budget, w *workload.Workload, conc int) Row {
	row := Row{Peer: p.name, Bound: p.bound}
	m, closeFn, err := p.open(b)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer closeFn()
	ctx := context.Background()
	opt := workload.ReplayOptions{Workers: conc}
	workload.Replay(ctx, m, w, w.Warmup, opt)
	res := workload.Replay(ctx, m, w, w.Trace, opt)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	row.OpsPerSec, row.HitRatio, row.Errors = res.OpsPerSec(), res.HitRatio(), res.Errors
	row.P50Us, row.P99Us, row.P999Us = us(res.Latency.Quantile(0.5)), us(res.Latency.Quantile(0.99)), us(res.Latency.Quantile(0.999))
	if res.Err != nil {
		row.Error = res.Err.Error()
	}
	return row
}
