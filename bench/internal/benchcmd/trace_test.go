package benchcmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeLIS writes a small .lis trace of 12,000 requests: a loop over 50
// pages, each request followed by two one-time pages, so that the
// evictions differ.
func writeLIS(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := range 4000 {
		b.WriteString(itoa(i%50) + " 1 0 0\n")
		b.WriteString(itoa(100000+2*i) + " 2 0 0\n")
	}
	path := filepath.Join(t.TempDir(), "small.lis")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTraceMode(t *testing.T) {
	path := writeLIS(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-trace", path, "-evictions", "lru,arc,adaptive", "-sizes", "20,100",
		"-json", filepath.Join(dir, "t.json"), "-csv", filepath.Join(dir, "t.csv"), "-svg", filepath.Join(dir, "t.svg")}
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"small.lis (lis): 12000 requests", "entries", "adaptive", "mean", "bench/peers"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var tab TraceTable
	data, err := os.ReadFile(filepath.Join(dir, "t.json"))
	if err != nil || json.Unmarshal(data, &tab) != nil {
		t.Fatalf("JSON: %v\n%s", err, data)
	}
	if len(tab.HitRatio) != 2 || len(tab.HitRatio[0]) != 3 || tab.Requests != 12000 || tab.Keys != 8050 {
		t.Fatalf("table %+v", tab)
	}
	// A loop page comes back after 150 requests: LRU with 100 entries never
	// hits; ARC and Adaptive keep the loop (at most 3950 hits of 12000).
	want := [][2]float64{{0, 0.01}, {0.25, 3950.0 / 12000}, {0.25, 3950.0 / 12000}}
	for j, ev := range tab.Evictions {
		if r := tab.HitRatio[1][j]; r < want[j][0] || r > want[j][1] {
			t.Errorf("%s at 100 entries: hit ratio %.3f, want in %v", ev, r, want[j])
		}
	}
	// With 20 entries Adaptive still keeps part of the loop.
	if lruR, ad := tab.HitRatio[0][0], tab.HitRatio[0][2]; ad < lruR+0.05 {
		t.Errorf("at 20 entries: adaptive %.3f, lru %.3f", ad, lruR)
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, "t.csv"))
	svg, _ := os.ReadFile(filepath.Join(dir, "t.svg"))
	if strings.Count(string(csvData), "\n") != 7 || strings.Count(string(svg), "<polyline") != 3 {
		t.Errorf("CSV:\n%s\nSVG has %d lines", csvData, strings.Count(string(svg), "<polyline"))
	}
}

func TestTraceModeErrors(t *testing.T) {
	path := writeLIS(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-trace", path, "-evictions", "lfu"}, 2},
		{[]string{"-trace", path, "-sizes", "0"}, 2},
		{[]string{"-trace", path, "-sizes", "x"}, 2},
		{[]string{"-trace", filepath.Join(t.TempDir(), "missing.lis")}, 1},
		{[]string{"-trace", path, "-trace-format", "csv"}, 1},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(tc.args, &stdout, &stderr); code != tc.code || stderr.Len() == 0 {
			t.Errorf("run(%q) = %d, want %d; stderr %q", tc.args, code, tc.code, stderr.String())
		}
	}
}

// TestLayoutEvictions: layout mode runs each layout once per eviction and
// names the rows after it.
func TestLayoutEvictions(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-keys", "300", "-ops", "2000", "-warmup", "300", "-max-size", "8K", "-median-size", "1K",
		"-lru-entries", "50", "-lru-bytes", "128K", "-layouts", "lru", "-memcached", "off", "-evictions", "lru,adaptive"}
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "lru (adaptive)") || !strings.Contains(out, "Che approximation") {
		t.Fatalf("output lacks the adaptive row or the Che check:\n%s", out)
	}
}
