package benchcmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-nope"},
		{"-keys", "0"},
		{"-keys", "x"},
		{"-get", "0.9"}, // fractions sum to 0.95
		{"-get", "1.2", "-put", "-0.2", "-del", "0"}, // negative fraction
		{"-skew", "-1"},
		{"-min-size", "0"},
		{"-min-size", "10K", "-max-size", "1K"},
		{"-max-size", "12Q"},
		{"-ops", "0"},
		{"-concurrency", "0"},
		{"-lru-bytes", "0"},
		{"-lru-shards", "3"},
		{"-disk-sync", "always"},
		{"-layouts", "lru,bogus"},
		{"-layouts", ""},
		{"extra-argument"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", args, code, stderr.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("run(%q): no message on stderr", args)
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run(-h) = %d, want 0", code)
	}
	for _, flag := range []string{"-keys", "-skew", "-get", "-put", "-del", "-ops", "-duration", "-concurrency",
		"-lru-bytes", "-lru-entries", "-disk-bytes", "-layouts", "-seed", "-memcached", "-json", "-csv", "-html", "-svg"} {
		if !strings.Contains(stderr.String(), flag+" ") && !strings.Contains(stderr.String(), flag+"\n") {
			t.Errorf("-h does not document %s", flag)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64K": 64 << 10, "64MiB": 64 << 20, "1g": 1 << 30, "1.5M": 3 << 19, "10KB": 10 << 10} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
}

// tinyRun runs the LRU layout on a small workload and returns the output dir.
func tinyRun(t *testing.T, layouts string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-keys", "500", "-ops", "3000", "-warmup", "500", "-max-size", "16K", "-median-size", "2K",
		"-lru-entries", "100", "-lru-bytes", "256K", "-layouts", layouts, "-memcached", "off",
		"-json", filepath.Join(dir, "out.json"), "-csv", filepath.Join(dir, "out.csv"),
		"-html", filepath.Join(dir, "out.html"), "-svg", filepath.Join(dir, "out.svg")}
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"ops/s", "p99.9", "Che approximation"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	return dir
}

func TestEndToEndLRU(t *testing.T) {
	dir := tinyRun(t, "lru")
	var rep Report
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rep.Rows))
	}
	r := rep.Rows[0]
	if r.Ops != 3000 || r.Gets+r.Deletes > r.Ops || r.Hits > r.Gets || r.Errors != 0 || r.Error != "" {
		t.Errorf("implausible row %+v", r)
	}
	if r.HitRatio <= 0 || r.HitRatio >= 1 || r.Tiers[0].HitRatio != r.HitRatio {
		t.Errorf("hit ratio %v, front tier %v", r.HitRatio, r.Tiers[0].HitRatio)
	}
	if r.Tiers[0].BytesHeld <= 0 || r.Tiers[0].BytesHeld > 256<<10 {
		t.Errorf("front holds %d bytes, want (0, 256K]", r.Tiers[0].BytesHeld)
	}
	if rep.Che == nil || rep.Che.Model <= 0 || rep.Che.Layout != "lru" {
		t.Errorf("Che check missing: %+v", rep.Che)
	}
	html, err := os.ReadFile(filepath.Join(dir, "out.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script src", "<link", "<img", "@import"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("HTML report loads an external resource (%s)", bad)
		}
	}
	if bytes.Count(html, []byte("<svg")) < 3 {
		t.Errorf("HTML report has fewer than 3 charts")
	}
}

// TestJSONSchema decodes the JSON generically and checks the documented fields.
func TestJSONSchema(t *testing.T) {
	dir := tinyRun(t, "lru,lru-disk")
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != float64(SchemaVersion) {
		t.Errorf("schema = %v, want %d", doc["schema"], SchemaVersion)
	}
	cfg, _ := doc["config"].(map[string]any)
	for _, k := range []string{"keys", "skew", "get", "put", "delete", "ops", "concurrency", "seed", "lru_bytes", "lru_entries"} {
		if _, ok := cfg[k].(float64); !ok {
			t.Errorf("config.%s missing or not a number", k)
		}
	}
	rows, _ := doc["rows"].([]any)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, x := range rows {
		row := x.(map[string]any)
		for _, k := range []string{"ops", "seconds", "ops_per_sec", "p50_us", "p99_us", "p999_us", "hit_ratio", "bytes_moved_down"} {
			if _, ok := row[k].(float64); !ok {
				t.Errorf("row %v: %s missing or not a number", row["layout"], k)
			}
		}
		tiers, _ := row["tiers"].([]any)
		for _, y := range tiers {
			tier := y.(map[string]any)
			for _, k := range []string{"hit_ratio", "bytes_held", "bytes_written", "gets", "hits"} {
				if _, ok := tier[k].(float64); !ok {
					t.Errorf("row %v tier %v: %s missing", row["layout"], tier["name"], k)
				}
			}
		}
		if lat, _ := row["latency"].([]any); len(lat) == 0 {
			t.Errorf("row %v: no latency distribution", row["layout"])
		}
	}
	disk := rows[1].(map[string]any)
	if disk["layout"] != "lru-disk" || disk["bytes_moved_down"].(float64) <= 0 || len(disk["tiers"].([]any)) != 2 {
		t.Errorf("lru-disk row: layout %v, moved down %v, tiers %v", disk["layout"], disk["bytes_moved_down"], disk["tiers"])
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
	if len(recs) != 3 || recs[0][0] != "layout" || recs[2][0] != "lru-disk" {
		t.Errorf("CSV: %d records, header %v", len(recs), recs[0])
	}
}
