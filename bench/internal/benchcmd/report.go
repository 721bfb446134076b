package benchcmd

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tiercache/tiercache/bench/workload"
)

// SchemaVersion is the version of the JSON report; it changes when a field
// is renamed or removed.
const SchemaVersion = 1

// Report is everything a run measured; -json writes it as is.
type Report struct {
	Schema int       `json:"schema"`
	Config Config    `json:"config"`
	Rows   []Row     `json:"rows"`
	Che    *CheCheck `json:"che,omitempty"`
	Notes  []string  `json:"notes,omitempty"`
}

// Config records the parameters of a run.
type Config struct {
	Keys           int     `json:"keys"`
	Skew           float64 `json:"skew"`
	MinSize        int     `json:"min_size"`
	MaxSize        int     `json:"max_size"`
	MedianSize     int     `json:"median_size"`
	SizeSigma      float64 `json:"size_sigma"`
	JSONShare      float64 `json:"json_share"`
	TotalBodyBytes int64   `json:"total_body_bytes"`
	Get            float64 `json:"get"`
	Put            float64 `json:"put"`
	Delete         float64 `json:"delete"`
	Warmup         int     `json:"warmup_ops"`
	Ops            int     `json:"ops"`
	DurationSec    float64 `json:"duration_sec,omitempty"`
	Concurrency    int     `json:"concurrency"`
	Seed           uint64  `json:"seed"`
	LRUEntries     int     `json:"lru_entries"`
	LRUBytes       int64   `json:"lru_bytes"`
	LRUShards      int     `json:"lru_shards"`
	DiskBytes      int64   `json:"disk_bytes"`
	DiskSync       string  `json:"disk_sync"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	GoVersion      string  `json:"go_version"`
	GOOS           string  `json:"goos"`
	GOARCH         string  `json:"goarch"`
}

// Row is the result of one layout.
type Row struct {
	Layout         string         `json:"layout"` // -layouts id
	Name           string         `json:"name"`
	Ops            int64          `json:"ops"`
	Seconds        float64        `json:"seconds"`
	OpsPerSec      float64        `json:"ops_per_sec"`
	MeanUs         float64        `json:"mean_us"`
	P50Us          float64        `json:"p50_us"`
	P99Us          float64        `json:"p99_us"`
	P999Us         float64        `json:"p999_us"`
	MaxUs          float64        `json:"max_us"`
	Gets           int64          `json:"gets"`
	Hits           int64          `json:"hits"`
	Puts           int64          `json:"puts"`
	Deletes        int64          `json:"deletes"`
	Errors         int64          `json:"errors"`
	HitRatio       float64        `json:"hit_ratio"`
	BytesMovedDown int64          `json:"bytes_moved_down"` // body bytes Put into tiers below the front
	BytesReadUp    int64          `json:"bytes_read_up"`    // body bytes read from tiers below the front
	Tiers          []TierRow      `json:"tiers"`
	Latency        []LatencyPoint `json:"latency"`
	Fault          *FaultReport   `json:"fault,omitempty"` // -kill-server, pool layouts
	Error          string         `json:"error,omitempty"`
}

// TierRow is one tier of a layout. HitRatio is Hits/Gets of the lookups
// that reached the tier; BytesHeld is -1 when unknown. Latency is nil for
// a layout of one tier (no Layered to sample it) and when no lookup was
// sampled.
type TierRow struct {
	Name         string       `json:"name"`
	Gets         int64        `json:"gets"`
	Hits         int64        `json:"hits"`
	HitRatio     float64      `json:"hit_ratio"`
	BytesHeld    int64        `json:"bytes_held"`
	BytesWritten int64        `json:"bytes_written"`
	BytesRead    int64        `json:"bytes_read"`
	Promotions   int64        `json:"promotions"`
	Errors       int64        `json:"errors"`
	Latency      *TierLatency `json:"lookup_latency,omitempty"`
}

// LatencyPoint is one point of a latency distribution.
type LatencyPoint struct {
	Percentile float64 `json:"percentile"`
	Us         float64 `json:"us"`
}

// CheCheck compares the LRU layout's measured hit ratio with the Che
// approximation (see workload.Che). Model accounts for Deletes;
// ModelNoDeletes is the classic formula for a trace of references only.
type CheCheck struct {
	Layout         string  `json:"layout,omitempty"`
	Measured       float64 `json:"measured"`
	Model          float64 `json:"model"`
	ModelNoDeletes float64 `json:"model_no_deletes"`
	Diff           float64 `json:"diff"`
	T              float64 `json:"characteristic_time_ops"` // 0 when HoldsAll
	// HoldsAll: the LRU's budget holds every key, so it never evicts and
	// the characteristic time is infinite.
	HoldsAll bool `json:"holds_all_keys,omitempty"`
}

// latencyPercentiles are the points of the latency distributions.
var latencyPercentiles = []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100}

func newReport(e *env) *Report {
	c, o := e.o.wl, e.o
	return &Report{Schema: SchemaVersion, Config: Config{
		Keys: c.Keys, Skew: c.Skew, MinSize: c.MinSize, MaxSize: c.MaxSize, MedianSize: c.MedianSize,
		SizeSigma: c.SizeSigma, JSONShare: c.JSONShare, TotalBodyBytes: e.w.TotalBytes(),
		Get: c.Get, Put: c.Put, Delete: c.Delete, Warmup: c.Warmup, Ops: c.Ops,
		DurationSec: o.duration.Seconds(), Concurrency: o.concurrency, Seed: c.Seed,
		LRUEntries: o.lruEntries, LRUBytes: int64(o.lruBytes), LRUShards: o.lruShards,
		DiskBytes: int64(o.diskBytes), DiskSync: o.diskSync,
		GOMAXPROCS: gomaxprocs(), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
	}}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fill sets the row from a replay and the stack's counters around it.
func (r *Row) fill(res *workload.Result, s *stack, before, after snapshot) {
	r.Ops, r.Seconds, r.OpsPerSec = res.Ops, res.Elapsed.Seconds(), res.OpsPerSec()
	h := &res.Latency
	r.MeanUs, r.MaxUs = us(h.Mean()), us(h.Max())
	r.P50Us, r.P99Us, r.P999Us = us(h.Quantile(0.5)), us(h.Quantile(0.99)), us(h.Quantile(0.999))
	for _, p := range latencyPercentiles {
		r.Latency = append(r.Latency, LatencyPoint{Percentile: p, Us: us(h.Quantile(p / 100))})
	}
	r.Gets, r.Hits, r.Puts, r.Deletes, r.Errors = res.Gets, res.Hits, res.Puts, res.Deletes, res.Errors
	r.HitRatio = res.HitRatio()
	for i, t := range s.tiers {
		tr := TierRow{Name: t.name, BytesHeld: t.held()}
		tr.Hits, tr.Gets = tierLookups(s, i, before, after)
		if tr.Gets > 0 {
			tr.HitRatio = float64(tr.Hits) / float64(tr.Gets)
		}
		if s.layered != nil {
			a, b := after.layered.Tiers[i], before.layered.Tiers[i]
			tr.Promotions, tr.Errors = int64(a.Promotions-b.Promotions), int64(a.Errors-b.Errors)
			tr.Latency = tierLatency(b.Latency, a.Latency)
		}
		if t.count != nil {
			d := after.lower[i].sub(before.lower[i])
			tr.BytesWritten, tr.BytesRead = d.BytesWritten, d.BytesRead
			r.BytesMovedDown += d.BytesWritten
			r.BytesReadUp += d.BytesRead
		}
		r.Tiers = append(r.Tiers, tr)
	}
}

func (r *Report) failed() bool {
	for _, row := range r.Rows {
		if row.Error != "" {
			return true
		}
	}
	return len(r.Rows) == 0
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func fmtUs(v float64) string {
	switch {
	case v >= 10000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "ms"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "µs"
}

// joinTiers formats one value per tier, front first, separated by " / ".
func joinTiers(ts []TierRow, f func(TierRow) string) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = f(t)
	}
	return strings.Join(parts, " / ")
}

// printTable writes the human-readable report.
func printTable(w io.Writer, rep *Report) {
	c := rep.Config
	fmt.Fprintf(w, "workload: %d keys, Zipf s=%.2f, bodies %s..%s (median %s, total %s), %.0f%% get / %.0f%% put / %.0f%% delete,\n",
		c.Keys, c.Skew, formatBytes(int64(c.MinSize)), formatBytes(int64(c.MaxSize)), formatBytes(int64(c.MedianSize)),
		formatBytes(c.TotalBodyBytes), 100*c.Get, 100*c.Put, 100*c.Delete)
	measured := fmt.Sprintf("%d measured ops", c.Ops)
	if c.DurationSec > 0 {
		measured = fmt.Sprintf("%gs measured (looping over %d ops)", c.DurationSec, c.Ops)
	}
	fmt.Fprintf(w, "          %d warm-up + %s, %d clients, seed %d; front lru %d entries / %s; disk %s (sync %s); GOMAXPROCS %d\n\n",
		c.Warmup, measured, c.Concurrency, c.Seed, c.LRUEntries, formatBytes(c.LRUBytes), formatBytes(c.DiskBytes), c.DiskSync, c.GOMAXPROCS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layout\tops/s\tp50\tp99\tp99.9\thit\ttier hit (front / lower)\theld per tier\tmoved down\tread up\t")
	for _, r := range rep.Rows {
		if r.Error != "" && r.Ops == 0 {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\t\t\t\t\t\n", r.Name, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.OpsPerSec,
			fmtUs(r.P50Us), fmtUs(r.P99Us), fmtUs(r.P999Us), pct(r.HitRatio),
			joinTiers(r.Tiers, func(t TierRow) string { return pct(t.HitRatio) }),
			joinTiers(r.Tiers, func(t TierRow) string { return formatBytes(t.BytesHeld) }),
			formatBytes(r.BytesMovedDown), formatBytes(r.BytesReadUp))
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Error != "" && r.Ops > 0 {
			fmt.Fprintf(w, "%s: %d errors, first: %s\n", r.Name, r.Errors, r.Error)
		}
	}
	if ch := rep.Che; ch != nil {
		t := fmt.Sprintf("characteristic time %.0f ops", ch.T)
		if ch.HoldsAll {
			t = "which holds every key (it never evicts)"
		}
		fmt.Fprintf(w, "\nChe approximation, front LRU (%d entries / %s), %s:\n", c.LRUEntries, formatBytes(c.LRUBytes), t)
		fmt.Fprintf(w, "  model %.4f (with the %.0f%% deletes; %.4f for a trace without deletes)", ch.Model, 100*c.Delete, ch.ModelNoDeletes)
		if ch.Layout != "" {
			fmt.Fprintf(w, ", measured %.4f on %s: diff %+.2f points", ch.Measured, ch.Layout, 100*ch.Diff)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  (the model is the steady state of an LRU under independent Zipf references, a Put or a Get miss")
		fmt.Fprintln(w, "   inserting and a Delete removing; the lru package's per-shard budgets are modelled as one LRU)")
		if ch.Layout != "" && math.Abs(ch.Diff) > 0.01 {
			fmt.Fprintln(w, "  warning: more than 1 point apart: a warm-up or trace too short for the cache to reach its steady")
			fmt.Fprintln(w, "  state (first references always miss), or shards too small to behave like one LRU")
		}
	}
	printFaults(w, rep)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// tierCSVFields are the columns of each tier's group in the CSV report,
// prefixed with "tierN_".
var tierCSVFields = []string{"name", "gets", "hits", "hit_ratio", "bytes_held", "bytes_written", "bytes_read", "promotions", "errors",
	"lookup_samples", "lookup_mean_us", "lookup_p50_us", "lookup_p99_us"}

// writeCSV writes one line per layout; tiers become numbered column groups.
func writeCSV(w io.Writer, rep *Report) error {
	maxTiers := 0
	for _, r := range rep.Rows {
		maxTiers = max(maxTiers, len(r.Tiers))
	}
	head := []string{"layout", "name", "ops", "seconds", "ops_per_sec", "mean_us", "p50_us", "p99_us", "p999_us", "max_us",
		"gets", "hits", "puts", "deletes", "errors", "hit_ratio", "bytes_moved_down", "bytes_read_up"}
	for i := range maxTiers {
		for _, f := range tierCSVFields {
			head = append(head, fmt.Sprintf("tier%d_%s", i, f))
		}
	}
	head = append(head, faultCSVHead...)
	cw := csv.NewWriter(w)
	cw.Write(append(head, "error"))
	fl := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	it := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, r := range rep.Rows {
		rec := []string{r.Layout, r.Name, it(r.Ops), fl(r.Seconds), fl(r.OpsPerSec), fl(r.MeanUs), fl(r.P50Us), fl(r.P99Us),
			fl(r.P999Us), fl(r.MaxUs), it(r.Gets), it(r.Hits), it(r.Puts), it(r.Deletes), it(r.Errors), fl(r.HitRatio),
			it(r.BytesMovedDown), it(r.BytesReadUp)}
		for i := range maxTiers {
			if i >= len(r.Tiers) {
				rec = append(rec, make([]string, len(tierCSVFields))...)
				continue
			}
			t := r.Tiers[i]
			rec = append(rec, t.Name, it(t.Gets), it(t.Hits), fl(t.HitRatio), it(t.BytesHeld), it(t.BytesWritten),
				it(t.BytesRead), it(t.Promotions), it(t.Errors))
			if l := t.Latency; l != nil {
				rec = append(rec, strconv.FormatUint(l.Samples, 10), fl(l.MeanUs), fl(l.P50Us), fl(l.P99Us))
			} else {
				rec = append(rec, "", "", "", "")
			}
		}
		rec = append(rec, faultCSV(r.Fault)...)
		cw.Write(append(rec, r.Error))
	}
	cw.Flush()
	return cw.Error()
}
