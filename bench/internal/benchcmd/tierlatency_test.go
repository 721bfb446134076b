package benchcmd

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// TestTierLatency: the latency of the measured run is the difference of
// two cumulative snapshots, summarised as tiercache.LatencyStats is.
func TestTierLatency(t *testing.T) {
	var before, after tiercache.LatencyStats
	before.Buckets[3], before.Sum = 5, 30 // samples of the warm-up
	after.Buckets[3], after.Buckets[10], after.Buckets[12] = 5+90, 9, 1
	after.Sum = before.Sum + 90*6 + 9*1000 + 1*3000
	got := tierLatency(before, after)
	if got == nil {
		t.Fatal("tierLatency = nil")
	}
	want := TierLatency{Samples: 100, MeanUs: us(time.Duration(90*6+9*1000+3000) / 100),
		P50Us: us(tiercache.LatencyBucketBound(3)), P99Us: us(tiercache.LatencyBucketBound(10))}
	if got.Samples != want.Samples || got.MeanUs != want.MeanUs || got.P50Us != want.P50Us || got.P99Us != want.P99Us {
		t.Errorf("tierLatency = %+v, want %+v", *got, want)
	}
	if len(got.Buckets) != 13 || got.Buckets[3] != 90 || got.Buckets[10] != 9 || got.Buckets[12] != 1 {
		t.Errorf("buckets %v", got.Buckets)
	}
	if l := tierLatency(after, after); l != nil {
		t.Errorf("no new samples: %+v, want nil", *l)
	}
	var last tiercache.LatencyStats
	last.Buckets[tiercache.LatencyBuckets-1] = 1
	if l := tierLatency(tiercache.LatencyStats{}, last); l == nil || l.P99Us <= 0 {
		t.Errorf("a sample in the last bucket: %+v", l)
	}
}

// TestPerTierReport: a layered layout reports each tier's lookup latency in
// JSON and CSV, and the HTML report has a per-tier table, a chart across
// layouts and a histogram per layout, still loading nothing.
func TestPerTierReport(t *testing.T) {
	dir := tinyRun(t, "lru,lru-disk")
	rep := readReport(t, filepath.Join(dir, "out.json"))
	if rep.Rows[0].Tiers[0].Latency != nil {
		t.Errorf("lru alone has a lookup latency: %+v", rep.Rows[0].Tiers[0].Latency)
	}
	disk := rep.Rows[1].Tiers[1].Latency
	if disk == nil || disk.Samples == 0 || disk.P50Us <= 0 || disk.P99Us < disk.P50Us || disk.MeanUs <= 0 {
		t.Fatalf("disk tier lookup latency %+v", disk)
	}
	f, err := os.Open(filepath.Join(dir, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "tier1_lookup_p50_us")
	if col < 0 || recs[2][col] == "" || recs[1][col] != "" {
		t.Errorf("CSV tier1_lookup_p50_us: column %d in %q", col, recs[0])
	}
	page, err := os.ReadFile(filepath.Join(dir, "out.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{"<h2>Per tier</h2>", "<h3>lru &gt; disk</h3>", "<td>disk</td>", "Tier lookup latency",
		"Lookup latency per tier: lru &gt; disk", "&le; " + fmtUs(disk.P50Us)} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(html, "<svg"); n != 5 {
		t.Errorf("HTML has %d charts, want 5 (3 + tier latency + one histogram)", n)
	}
	if bytes.Contains(page, []byte("NaN")) {
		t.Error("HTML contains NaN")
	}
}
