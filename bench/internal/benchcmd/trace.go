package benchcmd

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/bench/workload"
)

// Trace mode: go run ./bench -trace FILE replays a recorded trace through
// the lru backend with each eviction at each entry budget and prints a
// hit-ratio table (bench/peers -trace prints the same for peer caches).

// traceFlags are the flags of trace mode, and -evictions for layout mode.
type traceFlags struct {
	path      string
	format    string
	evictions evictionList
	sizes     sizeList
}

// addTraceFlags registers the trace-mode flags on fs.
func addTraceFlags(fs *flag.FlagSet, t *traceFlags) {
	t.evictions = evictionList{lru.LRU}
	fs.StringVar(&t.path, "trace", "", "replay the trace `file` instead of the Zipf workload and print a hit-ratio table per -evictions and -sizes:\n"+
		"ARC .lis (`start count _ _` lines, zstd-compressed or plain) or one key per line; each request a Get, a miss followed by a Put")
	fs.StringVar(&t.format, "trace-format", workload.FormatAuto, "format of -trace: lis, keys or auto (.lis name or a first line of integers)")
	fs.Var(&t.evictions, "evictions", "comma-separated evictions of the lru front: lru, arc, adaptive (layout mode: each layout runs once per eviction)")
	fs.Var(&t.sizes, "sizes", "comma-separated entry budgets for -trace (default: 1, 2, 5, 10 and 20% of the trace's distinct keys)")
}

// evictionList is a flag.Value for a comma-separated list of evictions.
type evictionList []lru.Eviction

func (l *evictionList) String() string {
	names := make([]string, len(*l))
	for i, ev := range *l {
		names[i] = ev.String()
	}
	return strings.Join(names, ",")
}

func (l *evictionList) Set(s string) error {
	var out evictionList
	for _, name := range strings.Split(s, ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		ev, err := lru.ParseEviction(name)
		if err != nil {
			return err
		}
		if !slices.Contains(out, ev) {
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return errors.New("no eviction given")
	}
	*l = out
	return nil
}

// sizeList is a flag.Value for a comma-separated list of entry counts.
type sizeList []int

func (l *sizeList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *sizeList) Set(s string) error {
	var out sizeList
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > 1<<30 {
			return fmt.Errorf("invalid size %q (want a positive entry count)", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return errors.New("no size given")
	}
	*l = out
	return nil
}

// TraceTable is the result of trace mode: the hit ratio (0 to 1) of each
// eviction (columns) at each entry budget (rows). -json writes it as is.
type TraceTable struct {
	Trace     string      `json:"trace"`
	Format    string      `json:"format"`
	Requests  int         `json:"requests"`
	Keys      int         `json:"distinct_keys"`
	Shards    int         `json:"lru_shards"`
	Evictions []string    `json:"evictions"`
	Sizes     []int       `json:"sizes"`
	HitRatio  [][]float64 `json:"hit_ratio"` // [size][eviction]
	Seconds   float64     `json:"seconds"`
}

// runTrace is trace mode: it returns the exit status.
func runTrace(o *options, stdout, stderr io.Writer) int {
	t0 := time.Now()
	tr, err := workload.ReadTraceFile(o.trace.path, o.trace.format)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	sizes := o.trace.sizes
	if len(sizes) == 0 {
		for _, pct := range []int{1, 2, 5, 10, 20} {
			sizes = append(sizes, max(len(tr.Keys)*pct/100, 1))
		}
	}
	tab := &TraceTable{Trace: tr.Name, Format: tr.Format, Requests: len(tr.Requests), Keys: len(tr.Keys),
		Shards: max(o.lruShards, 1), Sizes: sizes}
	for _, ev := range o.trace.evictions {
		tab.Evictions = append(tab.Evictions, ev.String())
	}
	if o.progress != progressOff {
		fmt.Fprintf(stderr, "bench: %s: %d requests, %d distinct keys, read in %v\n",
			tr.Name, len(tr.Requests), len(tr.Keys), time.Since(t0).Round(time.Millisecond))
	}
	if err := replayTable(tr, o, tab, stderr); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	tab.Seconds = time.Since(t0).Seconds()
	printTraceTable(stdout, tab)
	if err := writeTraceFiles(o, tab, stdout); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// replayTable fills tab.HitRatio, replaying on -concurrency goroutines at
// once (each replay is sequential, so the table does not depend on it).
func replayTable(tr *workload.KeyTrace, o *options, tab *TraceTable, stderr io.Writer) error {
	type job struct{ size, ev int }
	jobs := make(chan job)
	tab.HitRatio = make([][]float64, len(tab.Sizes))
	for i := range tab.HitRatio {
		tab.HitRatio[i] = make([]float64, len(o.trace.evictions))
	}
	var done atomic.Int64
	// The layout runner's progress report, on a bare env: it needs only o and stderr.
	stop := (&env{o: o, stderr: stderr}).progress("trace replay", &done, int64(len(tr.Requests)*len(tab.Sizes)*len(o.trace.evictions)), 0)
	defer stop()
	errs := make([]error, min(o.concurrency, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for j := range jobs {
				hits, err := replayOne(tr, o.trace.evictions[j.ev], tab.Sizes[j.size], o.lruShards, &done)
				if err != nil {
					errs[w] = errors.Join(errs[w], err)
				}
				tab.HitRatio[j.size][j.ev] = float64(hits) / float64(len(tr.Requests))
			}
		})
	}
	for s := range tab.Sizes {
		for e := range o.trace.evictions {
			jobs <- job{s, e}
		}
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// replayOne replays tr on a new lru backend of ev bounded by size entries
// (bytes unbounded: every page weighs the same).
func replayOne(tr *workload.KeyTrace, ev lru.Eviction, size, shards int, done *atomic.Int64) (int64, error) {
	if shards == 0 {
		shards = 1 // one exact order over the whole budget, as the peers have
	}
	for shards > 1 && size/shards < 1 {
		shards /= 2
	}
	m, err := lru.New(lru.Config{MaxEntries: size, MaxBytes: 1 << 50, Shards: shards, Eviction: ev})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	resp := &tiercache.Response{Status: 200, URL: "https://bench.example/"}
	return workload.ReplayTrace(context.Background(), m, tr, resp, tiercache.NewTTLPolicy(24*time.Hour), done)
}

// printTraceTable prints the hit ratios in percent, a mean row and a note.
func printTraceTable(w io.Writer, tab *TraceTable) {
	fmt.Fprintf(w, "trace %s (%s): %d requests, %d distinct keys; lru backend, %d shard(s), entry budgets, read-through\n\n",
		tab.Trace, tab.Format, tab.Requests, tab.Keys, tab.Shards)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "entries\t")
	for _, ev := range tab.Evictions {
		fmt.Fprintf(tw, "%s\t", ev)
	}
	fmt.Fprintln(tw)
	mean := make([]float64, len(tab.Evictions))
	for i, size := range tab.Sizes {
		fmt.Fprintf(tw, "%d\t", size)
		for j, r := range tab.HitRatio[i] {
			fmt.Fprintf(tw, "%.2f%%\t", 100*r)
			mean[j] += r / float64(len(tab.Sizes))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "mean\t")
	for _, r := range mean {
		fmt.Fprintf(tw, "%.2f%%\t", 100*r)
	}
	fmt.Fprintln(tw)
	tw.Flush()
	fmt.Fprintf(w, "\n%.1fs. Peer caches on the same trace: cd bench/peers && go run . -trace FILE -sizes %s\n",
		tab.Seconds, (*sizeList)(&tab.Sizes).String())
}

// writeTraceFiles writes -json, -csv and -svg in trace mode ("-": stdout).
func writeTraceFiles(o *options, tab *TraceTable, stdout io.Writer) error {
	var errs []error
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{o.jsonPath, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(tab)
		}},
		{o.csvPath, func(w io.Writer) error { return writeTraceCSV(w, tab) }},
		{o.svgPath, func(w io.Writer) error {
			_, err := io.WriteString(w, traceChart(tab, 720, 420))
			return err
		}},
	} {
		if out.path == "" {
			continue
		}
		if out.path == "-" {
			errs = append(errs, out.write(stdout))
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, out.write(f), f.Close())
	}
	return errors.Join(errs...)
}

func writeTraceCSV(w io.Writer, tab *TraceTable) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"trace", "entries", "eviction", "hit_ratio"})
	for i, size := range tab.Sizes {
		for j, ev := range tab.Evictions {
			cw.Write([]string{tab.Trace, strconv.Itoa(size), ev, strconv.FormatFloat(tab.HitRatio[i][j], 'f', 6, 64)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// withEviction names a layout row after its front's eviction when that is
// not LRU: "lru (adaptive)", layout "lru+adaptive". The Che check reads
// the plain "lru" row only, whose eviction the model describes.
func withEviction(r Row, ev lru.Eviction) Row {
	if ev != lru.LRU {
		r.Layout += "+" + ev.String()
		r.Name += " (" + ev.String() + ")"
	}
	return r
}
