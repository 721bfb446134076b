// Package benchcmd is the bench command (go run ./bench): its flags, the
// workload, the tier layouts, the runner, the reports and trace mode. It is
// a package rather than package main so that the command can be built in
// two modules: bench (no Redis client) and bench/redis (which registers the
// redis lower tier with Register and runs the same Main).
//
// The command generates a trace once from a seed (Zipf key popularity, a
// fixed HTML/JSON-like body per key, a Get/Put/Delete mix in which a Get
// miss is followed by a Put, as a cache-aside client does) and replays it
// on each layout: an LRU alone, an LRU over disk, an LRU over
// Compress(disk), an LRU over memcached (one server or a pool of three)
// when a memcached is given with -memcached or found on PATH, and an LRU
// over a registered lower tier such as redis. It prints one row per layout
// (throughput, latency percentiles, hit ratio per tier and overall, bytes
// held per tier, bytes moved to the lower tiers) and checks the LRU's hit
// ratio against the Che approximation. -json, -csv, -html and -svg write
// the same results to files, each on its own (one that fails does not stop
// the others, and makes the exit status 1), or one of them to stdout ("-"),
// the table then going to stderr. Progress goes to stderr: a redrawn line
// on a terminal, otherwise a line per layout and every 10 s.
package benchcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tiercache/tiercache/bench/workload"
)

// options are the parsed command-line flags.
type options struct {
	wl          workload.Config
	duration    time.Duration
	concurrency int
	lruEntries  int
	lruBytes    byteSize
	lruShards   int
	diskBytes   byteSize
	diskSync    string
	mcMemory    byteSize
	layouts     []string
	layoutsSet  bool // -layouts was given
	memcached   string
	ext         map[string]*extFlags // externals.go: -redis, -redis-memory
	killServer  bool
	jsonPath    string
	csvPath     string
	htmlPath    string
	svgPath     string
	progress    progressMode
	trace       traceFlags // trace.go: -trace, -trace-format, -evictions, -sizes
}

// errUsage marks errors that exit with status 2; errPrinted is one that
// was already reported.
var (
	errUsage   = errors.New("usage")
	errPrinted = fmt.Errorf("%w: reported", errUsage)
)

// parseFlags parses args into options; errors wrap errUsage or are
// flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{wl: workload.DefaultConfig()}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench [flags]\n\n"+
			"Replays one seeded cache-aside workload on each tier layout and reports\n"+
			"throughput, latency, hit ratios and bytes per tier. Sizes accept K, M, G\n"+
			"(KiB, MiB, GiB) suffixes.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var layouts string
	var seed uint64
	wl := &o.wl
	fs.IntVar(&wl.Keys, "keys", wl.Keys, "number of distinct keys")
	fs.Float64Var(&wl.Skew, "skew", wl.Skew, "Zipf exponent s of key popularity (>= 0; s < 1 allowed)")
	minSize, maxSize, median := byteSize(wl.MinSize), byteSize(wl.MaxSize), byteSize(wl.MedianSize)
	fs.Var(&minSize, "min-size", "smallest response body")
	fs.Var(&maxSize, "max-size", "largest response body")
	fs.Var(&median, "median-size", "median response body (log-normal, clamped to min/max)")
	fs.Float64Var(&wl.SizeSigma, "size-sigma", wl.SizeSigma, "sigma of the log-normal body size")
	fs.Float64Var(&wl.JSONShare, "json-share", wl.JSONShare, "fraction of keys with JSON-like bodies (the rest HTML-like)")
	fs.Float64Var(&wl.Get, "get", wl.Get, "fraction of Get operations (a miss is followed by a Put)")
	fs.Float64Var(&wl.Put, "put", wl.Put, "fraction of Put operations")
	fs.Float64Var(&wl.Delete, "del", wl.Delete, "fraction of Delete operations")
	fs.IntVar(&wl.Ops, "ops", wl.Ops, "measured operations per layout (the trace length)")
	fs.IntVar(&wl.Warmup, "warmup", wl.Warmup, "operations replayed on each layout before measuring")
	fs.DurationVar(&o.duration, "duration", 0, "measure for this long per layout, looping over the trace (overrides the -ops count)")
	fs.IntVar(&o.concurrency, "concurrency", runtime.GOMAXPROCS(0), "concurrent clients")
	fs.Uint64Var(&seed, "seed", wl.Seed, "seed of the workload")
	o.lruEntries = 10_000
	o.lruBytes = 64 << 20
	o.diskBytes = 1 << 30
	o.mcMemory = 1 << 30
	fs.IntVar(&o.lruEntries, "lru-entries", o.lruEntries, "front LRU entry budget")
	fs.Var(&o.lruBytes, "lru-bytes", "front LRU byte budget")
	fs.IntVar(&o.lruShards, "lru-shards", 0, "front LRU shards, a power of two (0: the lru package's default)")
	fs.Var(&o.diskBytes, "disk-bytes", "disk tier byte budget (files in a temporary directory)")
	fs.StringVar(&o.diskSync, "disk-sync", "none", "disk tier fsync mode: none, file or dir")
	fs.Var(&o.mcMemory, "memcached-memory", "memory of a memcached started by the command (-m)")
	fs.StringVar(&o.memcached, "memcached", "", "memcached host:port to use; empty: start one from PATH or $MEMCACHED_BIN if found; \"off\": none")
	fs.BoolVar(&o.killServer, "kill-server", false, "kill one server of the memcached pool (SIGKILL) halfway through each pool layout's measured run, and report before/after")
	fs.StringVar(&layouts, "layouts", strings.Join(defaultLayoutIDs(), ","), "comma-separated layouts to run: "+strings.Join(layoutIDs(), ", "))
	addExternalFlags(fs, o)
	fs.StringVar(&o.jsonPath, "json", "", "write the results as JSON to `file` (- for stdout)")
	fs.StringVar(&o.csvPath, "csv", "", "write the results as CSV to `file` (- for stdout)")
	fs.StringVar(&o.htmlPath, "html", "", "write a self-contained HTML report with SVG charts to `file`")
	fs.StringVar(&o.svgPath, "svg", "", "write an SVG chart (throughput, hit ratio, latency) to `file`")
	addTraceFlags(fs, &o.trace)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errPrinted // the flag package printed the error and usage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	wl.MinSize, wl.MaxSize, wl.MedianSize, wl.Seed = int(minSize), int(maxSize), int(median), seed
	fs.Visit(func(f *flag.Flag) { o.layoutsSet = o.layoutsSet || f.Name == "layouts" })
	var err error
	if o.layouts, err = parseLayouts(layouts); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	o.progress = progressModeOf(stderr)
	return o, nil
}

func (o *options) validate() error {
	errs := []error{o.wl.Validate()}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.duration >= 0, "-duration must be >= 0, got %v", o.duration)
	check(o.concurrency > 0 && o.concurrency <= 4096, "-concurrency must be in [1, 4096], got %d", o.concurrency)
	check(o.lruEntries > 0, "-lru-entries must be positive, got %d", o.lruEntries)
	check(o.lruBytes > 0, "-lru-bytes must be positive, got %d", o.lruBytes)
	check(o.lruShards >= 0 && o.lruShards&(o.lruShards-1) == 0, "-lru-shards must be 0 or a power of two, got %d", o.lruShards)
	check(o.diskBytes > 0, "-disk-bytes must be positive, got %d", o.diskBytes)
	check(o.mcMemory >= 64<<20, "-memcached-memory must be at least 64M, got %d", o.mcMemory)
	_, err := parseSync(o.diskSync)
	errs = append(errs, err, o.validateOutputs())
	return errors.Join(errs...)
}

// Main runs the command with args (without the program name), writing the
// table or the output sent to stdout ("-") to stdout, and progress and
// errors to stderr. It returns the exit status: 0 ok, 1 a failed layout or
// output, 2 a usage error, 130 interrupted (SIGINT or SIGTERM: the layout
// being measured is closed first, see benchmark). A run that asks for a
// layout whose lower tier is not registered in this binary (the redis
// layouts in the main module) is delegated to the module that registers it
// (see delegate.go).
func Main(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errPrinted):
		return 2
	case err != nil:
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(stderr, "bench: %s\nRun 'go run ./bench -h' for usage.\n", strings.ReplaceAll(msg, "\n", "\nbench: "))
		return 2
	}
	if o.trace.path != "" {
		return runTrace(o, stdout, stderr)
	}
	if x, ok := o.delegation(); ok {
		return delegate(x, args, stdout, stderr)
	}
	o.hintExternals(stderr)
	// An interrupt or SIGTERM ends the run cleanly: the layout being
	// measured is closed, so the memcached servers the command started
	// stop and the disk tier's temporary directory goes.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := benchmark(ctx, o, stderr)
	if errors.Is(err, errInterrupted) {
		fmt.Fprintln(stderr, "bench: interrupted: servers stopped, temporary files removed, no report written")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return report(o, rep, stdout, stderr)
}

// byteSize is a flag.Value for a byte count with an optional K, M or G
// suffix (powers of 1024; "KiB", "MB" and "B" spellings are accepted).
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<50 {
		return fmt.Errorf("invalid size %q (want e.g. 512, 64K, 64M, 1G)", s)
	}
	*b = byteSize(v * float64(mult))
	return nil
}

// formatBytes formats n with a binary unit: 512B, 64.0K, 1.5M, 2.00G.
func formatBytes(n int64) string {
	switch {
	case n < 0:
		return "n/a"
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 2, 64) + "G"
}
