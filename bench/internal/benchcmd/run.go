package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/bench/workload"
)

// env is what the layouts of one run share.
type env struct {
	ctx      context.Context // cancelled by an interrupt: stop measuring, clean up
	o        *options
	w        *workload.Workload
	mc       *mcServer
	pool     *mcPool
	ext      map[string]Backend // started external lower tiers, by name
	stderr   io.Writer
	eviction lru.Eviction // of the front tier of the layouts being run
}

// errInterrupted is returned by benchmark when ctx was cancelled (an
// interrupt or SIGTERM): the layouts run so far were closed, so their
// servers are stopped and their temporary directories removed.
var errInterrupted = errors.New("interrupted")

// benchmark generates the workload and runs every requested layout, until
// ctx is cancelled.
func benchmark(ctx context.Context, o *options, stderr io.Writer) (*Report, error) {
	t0 := time.Now()
	w, err := workload.New(o.wl)
	if err != nil {
		return nil, err
	}
	e := &env{ctx: ctx, o: o, w: w, stderr: stderr, ext: map[string]Backend{}}
	rep := newReport(e)
	if o.progress != progressOff {
		fmt.Fprintf(stderr, "bench: workload of %d keys (%s of bodies) generated in %v\n",
			len(w.Keys), formatBytes(w.TotalBytes()), time.Since(t0).Round(time.Millisecond))
	}
	if e.needsMemcached() {
		e.mc = findMemcached(o, stderr)
		defer e.mc.stop()
	}
	if e.needsPool() {
		e.pool = startPool(o, stderr)
		defer e.pool.stop()
	}
	e.startExternals()
	defer e.closeExternals()
	for _, ev := range o.trace.evictions {
		e.eviction = ev
		for _, id := range o.layouts {
			spec := specOf(id)
			if what, ok := e.available(spec); !ok {
				if ev == o.trace.evictions[0] && (e.serverGiven(spec) || !isDefaultLayouts(o.layouts)) {
					rep.Notes = append(rep.Notes, "skipped "+spec.name+": no "+what)
				}
				continue
			}
			row := e.runLayout(spec)
			if ctx.Err() != nil {
				return nil, errInterrupted
			}
			rep.Rows = append(rep.Rows, withEviction(row, ev))
		}
	}
	rep.Che = e.cheCheck(rep.Rows)
	return rep, nil
}

func (e *env) needsMemcached() bool {
	for _, id := range e.o.layouts {
		if specOf(id).lower == "memcached" {
			return true
		}
	}
	return false
}

func isDefaultLayouts(ids []string) bool { return slices.Equal(ids, defaultLayoutIDs()) }

// available reports whether the server of spec's lower tier is there, and
// names what is missing when it is not.
func (e *env) available(spec layoutSpec) (what string, ok bool) {
	switch spec.lower {
	case "", "disk":
		return "", true
	case "memcached":
		return "memcached", e.mc != nil
	case "mcpool":
		return "memcached", e.pool != nil
	}
	return spec.lower, e.ext[spec.lower] != nil
}

// serverGiven reports whether the user named the server of spec's lower
// tier (-memcached, -redis), so that its absence deserves a note.
func (e *env) serverGiven(spec layoutSpec) bool {
	if _, ok := externalOf(spec.lower); ok {
		return e.o.ext[spec.lower].addr != ""
	}
	return e.o.memcached != ""
}

// runLayout builds spec, warms it up, measures it and closes it.
func (e *env) runLayout(spec layoutSpec) Row {
	row := Row{Layout: spec.id, Name: spec.name}
	s, err := e.build(spec)
	if err != nil {
		row.Error = err.Error()
		fmt.Fprintf(e.stderr, "bench: %s: %v\n", spec.name, err)
		return row
	}
	defer func() {
		if err := s.close(); err != nil {
			fmt.Fprintf(e.stderr, "bench: %s: close: %v\n", spec.name, err)
		}
	}()
	ctx := e.ctx
	if len(e.w.Warmup) > 0 {
		e.replay(ctx, s, spec.name+" warm-up", e.w.Warmup, 0)
	}
	before := s.snapshot()
	res := e.measure(ctx, s, &row)
	after := s.snapshot()
	row.fill(res, s, before, after)
	if res.Err != nil {
		row.Error = res.Err.Error()
	}
	return row
}

// replay runs ops with progress on stderr (see progress).
func (e *env) replay(ctx context.Context, s *stack, label string, ops []workload.Op, d time.Duration) *workload.Result {
	var done atomic.Int64
	stop := e.progress(label, &done, int64(len(ops)), d)
	defer stop()
	return workload.Replay(ctx, s.mgr, e.w, ops, workload.ReplayOptions{
		Workers: e.o.concurrency, Duration: d, Done: &done,
	})
}

// snapshot is the counters of a stack at one moment.
type snapshot struct {
	front   lru.Stats
	layered tiercache.LayeredStats
	lower   []tierCounts // per tier; zero for the front
}

func (s *stack) snapshot() snapshot {
	snap := snapshot{front: s.front.Stats(), lower: make([]tierCounts, len(s.tiers))}
	if s.layered != nil {
		snap.layered = s.layered.Stats()
	}
	for i, t := range s.tiers {
		if t.count != nil {
			snap.lower[i] = t.count.snapshot()
		}
	}
	return snap
}

// tierLookups returns the hits and lookups of tier i between two snapshots.
func tierLookups(s *stack, i int, before, after snapshot) (hits, gets int64) {
	if s.layered == nil {
		hits = int64(after.front.Hits - before.front.Hits)
		return hits, hits + int64(after.front.Misses-before.front.Misses)
	}
	a, b := after.layered.Tiers[i], before.layered.Tiers[i]
	hits = int64(a.Hits - b.Hits)
	return hits, hits + int64(a.Misses-b.Misses)
}

// cheCheck compares the LRU layout's hit ratio with the Che approximation.
func (e *env) cheCheck(rows []Row) *CheCheck {
	var lruRow *Row
	for i := range rows {
		if rows[i].Layout == "lru" && rows[i].Error == "" {
			lruRow = &rows[i]
		}
	}
	c := e.o.wl
	sizes := e.w.Sizes(func(key string, resp *tiercache.Response) int64 {
		return int64(resp.Size()) + int64(len(key)) + lru.EntryOverhead
	})
	m := workload.CheModel{
		Probs: e.w.Zipf.Probs(), Sizes: sizes,
		MaxEntries: float64(e.o.lruEntries), MaxBytes: float64(e.o.lruBytes),
		RefShare: c.Get + c.Put,
	}
	check := &CheCheck{}
	check.Model, check.T = workload.Che(m)
	m.RefShare = 1
	check.ModelNoDeletes, _ = workload.Che(m)
	if lruRow != nil {
		check.Layout = lruRow.Layout
		check.Measured = lruRow.HitRatio
		check.Diff = check.Measured - check.Model
	}
	return check
}

// gomaxprocs is recorded in the report.
func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
