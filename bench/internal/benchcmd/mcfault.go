package benchcmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/tiercache/tiercache/bench/workload"
)

// -kill-server: a pool layout's measured run is replayed in two halves;
// between them one server of the pool is killed with SIGKILL. The report
// compares the halves: throughput, the callers' hit ratio and errors, and
// the memcached tier's hit ratio and errors (which Layered absorbs: a tier
// error is a miss for the caller). The "after" half includes the ejection
// window (Config.EjectAfter failed calls per server, 2 by default).

// killIndex is the pool server -kill-server kills.
const killIndex = 1

// FaultReport is the outcome of -kill-server on one pool layout.
type FaultReport struct {
	Killed   string        `json:"killed_server"`
	Replicas int           `json:"replicas"`
	Before   FaultPhase    `json:"before"`
	After    FaultPhase    `json:"after"`
	Servers  []FaultServer `json:"servers"` // at the end of the run
}

// FaultPhase is one half of a run cut by -kill-server. The tier fields
// count the lookups and errors of the memcached tier (below the front).
type FaultPhase struct {
	Ops          int64   `json:"ops"`
	Seconds      float64 `json:"seconds"`
	OpsPerSec    float64 `json:"ops_per_sec"`
	HitRatio     float64 `json:"hit_ratio"`
	Errors       int64   `json:"errors"` // seen by the callers
	TierGets     int64   `json:"tier_gets"`
	TierHitRatio float64 `json:"tier_hit_ratio"`
	TierErrors   int64   `json:"tier_errors"`
}

// FaultServer is one pool server's memcached.ServerStats at the end.
type FaultServer struct {
	Server    string `json:"server"`
	State     string `json:"state"`
	Gets      uint64 `json:"gets"`
	Hits      uint64 `json:"hits"`
	Errors    uint64 `json:"errors"`
	Ejections uint64 `json:"ejections"`
}

func (e *env) needsPool() bool {
	for _, id := range e.o.layouts {
		if specOf(id).lower == "mcpool" {
			return true
		}
	}
	return false
}

// measure replays the measured run of s; with -kill-server on a pool
// layout, in two halves around the kill, recording row.Fault.
func (e *env) measure(ctx context.Context, s *stack, row *Row) *workload.Result {
	label := s.spec.name
	if !e.o.killServer || s.mc == nil || e.pool == nil {
		return e.replay(ctx, s, label, e.w.Trace, e.o.duration)
	}
	ops, d := e.w.Trace, e.o.duration/2
	first, second := ops[:len(ops)/2], ops[len(ops)/2:]
	if d > 0 {
		first, second = ops, ops
	}
	snap0 := s.snapshot()
	a := e.replay(ctx, s, label+" before kill", first, d)
	snap1 := s.snapshot()
	f := &FaultReport{Killed: e.pool.kill(killIndex), Replicas: max(1, s.spec.replicas)}
	b := e.replay(ctx, s, label+" after kill", second, d)
	snap2 := s.snapshot()
	f.Before, f.After = faultPhase(s, a, snap0, snap1), faultPhase(s, b, snap1, snap2)
	for _, st := range s.mc.Stats().Servers {
		f.Servers = append(f.Servers, FaultServer{Server: st.Server, State: st.State.String(),
			Gets: st.Gets, Hits: st.Hits, Errors: st.Errors, Ejections: st.Ejections})
	}
	row.Fault = f
	return mergeResults(a, b)
}

// faultPhase summarizes one half.
func faultPhase(s *stack, r *workload.Result, before, after snapshot) FaultPhase {
	p := FaultPhase{Ops: r.Ops, Seconds: r.Elapsed.Seconds(), OpsPerSec: r.OpsPerSec(), HitRatio: r.HitRatio(), Errors: r.Errors}
	hits, gets := tierLookups(s, 1, before, after)
	p.TierGets = gets
	if gets > 0 {
		p.TierHitRatio = float64(hits) / float64(gets)
	}
	p.TierErrors = int64(after.layered.Tiers[1].Errors - before.layered.Tiers[1].Errors)
	return p
}

// mergeResults adds up two sequential replays.
func mergeResults(a, b *workload.Result) *workload.Result {
	m := &workload.Result{Counts: a.Counts, Elapsed: a.Elapsed + b.Elapsed, Latency: a.Latency, Err: a.Err}
	m.Ops += b.Ops
	m.Gets += b.Gets
	m.Hits += b.Hits
	m.Puts += b.Puts
	m.Deletes += b.Deletes
	m.Errors += b.Errors
	m.Latency.Merge(&b.Latency)
	if m.Err == nil {
		m.Err = b.Err
	}
	return m
}

// printFaults writes the -kill-server results under the table.
func printFaults(w io.Writer, rep *Report) {
	for _, r := range rep.Rows {
		f := r.Fault
		if f == nil {
			continue
		}
		fmt.Fprintf(w, "\n-kill-server: %s (replicas %d): %s killed (SIGKILL) halfway through the measured run\n", r.Name, f.Replicas, f.Killed)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\tops\tops/s\thit\terrors\tmemcached lookups\tmemcached hit\tmemcached errors\t")
		for _, ph := range []struct {
			name string
			p    FaultPhase
		}{{"before", f.Before}, {"after", f.After}} {
			p := ph.p
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%d\t%d\t%s\t%d\t\n", ph.name, p.Ops, p.OpsPerSec, pct(p.HitRatio), p.Errors,
				p.TierGets, pct(p.TierHitRatio), p.TierErrors)
		}
		tw.Flush()
		for _, s := range f.Servers {
			fmt.Fprintf(w, "  %s %s: %d gets, %d hits, %d errors, %d ejections\n", s.Server, s.State, s.Gets, s.Hits, s.Errors, s.Ejections)
		}
	}
}

// faultCSVHead names the -kill-server columns of the CSV report.
var faultCSVHead = []string{"fault_killed_server", "fault_replicas",
	"fault_before_ops_per_sec", "fault_before_hit_ratio", "fault_before_errors", "fault_before_tier_hit_ratio", "fault_before_tier_errors",
	"fault_after_ops_per_sec", "fault_after_hit_ratio", "fault_after_errors", "fault_after_tier_hit_ratio", "fault_after_tier_errors"}

// faultCSV returns the -kill-server columns of a row (empty without one).
func faultCSV(f *FaultReport) []string {
	if f == nil {
		return make([]string, len(faultCSVHead))
	}
	fl := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	it := func(v int64) string { return strconv.FormatInt(v, 10) }
	out := []string{f.Killed, strconv.Itoa(f.Replicas)}
	for _, p := range []FaultPhase{f.Before, f.After} {
		out = append(out, fl(p.OpsPerSec), fl(p.HitRatio), it(p.Errors), fl(p.TierHitRatio), it(p.TierErrors))
	}
	return out
}
