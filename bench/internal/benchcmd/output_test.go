package benchcmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// smallArgs is the run of the bug report: a front LRU that holds every key.
var smallArgs = []string{"-layouts", "lru", "-keys", "1000", "-ops", "2000", "-warmup", "100", "-memcached", "off",
	"-max-size", "16K", "-median-size", "2K"}

// nonFinite matches what a NaN or an infinity looks like in any output.
var nonFinite = regexp.MustCompile(`(?i)\bNaN\b|[+-]?\bInf(inity)?\b|∞`)

// TestNoInfOrNaNInOutputs: the bug report's run (an LRU that holds every
// key, whose Che characteristic time is infinite) exited 1 with "json:
// unsupported value: +Inf" and a 0-byte JSON file. Every output is now
// written, valid and free of NaN and infinities, and the run succeeds.
func TestNoInfOrNaNInOutputs(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{}
	args := append([]string(nil), smallArgs...)
	for _, f := range []string{"json", "csv", "html", "svg"} {
		paths[f] = filepath.Join(dir, "out."+f)
		args = append(args, "-"+f, paths[f])
	}
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	outputs := map[string]string{"table": stdout.String()}
	for f, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			t.Fatalf("-%s: %d bytes, %v", f, len(data), err)
		}
		outputs[f] = string(data)
	}
	for name, out := range outputs {
		if m := nonFinite.FindString(out); m != "" {
			t.Errorf("%s output contains %q", name, m)
		}
	}
	var rep Report
	if err := json.Unmarshal([]byte(outputs["json"]), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Che == nil || !rep.Che.HoldsAll || rep.Che.T != 0 {
		t.Errorf("Che = %+v, want HoldsAll with T 0", rep.Che)
	}
	if !strings.Contains(outputs["table"], "holds every key") {
		t.Errorf("the table does not say the LRU holds every key:\n%s", outputs["table"])
	}
}

// TestMakeFinite: any NaN or infinity left in a report, wherever it is,
// becomes 0 with a note, so that JSON encoding cannot fail.
func TestMakeFinite(t *testing.T) {
	rep := &Report{
		Rows: []Row{{Layout: "x", OpsPerSec: math.Inf(1), HitRatio: math.NaN(),
			Tiers:   []TierRow{{HitRatio: math.Inf(-1)}},
			Latency: []LatencyPoint{{Percentile: 50, Us: math.NaN()}}}},
		Che: &CheCheck{T: math.Inf(1), Diff: math.NaN()},
	}
	rep.makeFinite()
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("JSON after makeFinite: %v", err)
	}
	if !rep.Che.HoldsAll || rep.Che.T != 0 {
		t.Errorf("Che = %+v, want HoldsAll", rep.Che)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, path := range []string{"rows[0].ops_per_sec", "rows[0].hit_ratio", "rows[0].tiers[0].hit_ratio", "rows[0].latency[0].us", "che.diff"} {
		if !strings.Contains(notes, "report."+path+" was") {
			t.Errorf("no note for %s in:\n%s", path, notes)
		}
	}
}

// TestOutputsWrittenIndependently: an output that cannot be written does
// not stop the others, leaves no partial file, and makes the exit status 1.
func TestOutputsWrittenIndependently(t *testing.T) {
	dir := t.TempDir()
	isDir := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(isDir, 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "out.csv")
	args := append(append([]string(nil), smallArgs...),
		"-json", filepath.Join(dir, "missing", "out.json"), "-html", isDir, "-csv", good, "-svg", filepath.Join(dir, "out.svg"))
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 1 {
		t.Fatalf("run = %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, flag := range []string{"-json", "-html"} {
		if !strings.Contains(stderr.String(), "bench: "+flag+" ") {
			t.Errorf("stderr does not report %s:\n%s", flag, stderr.String())
		}
	}
	for _, p := range []string{good, filepath.Join(dir, "out.svg")} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s was not written: %v", p, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if fi, err := os.Stat(isDir); err != nil || !fi.IsDir() {
		t.Errorf("the directory given to -html was replaced: %v", err)
	}
}

// TestOutputToStdout: "-json -" and "-csv -" write to stdout, which then
// holds only that output (the table goes to stderr); two at once is a usage
// error.
func TestOutputToStdout(t *testing.T) {
	for _, flag := range []string{"json", "csv"} {
		t.Run(flag, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(append(append([]string(nil), smallArgs...), "-"+flag, "-"), &stdout, &stderr); code != 0 {
				t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
			}
			var err error
			if flag == "json" {
				var rep Report
				err = json.Unmarshal(stdout.Bytes(), &rep)
			} else {
				_, err = csv.NewReader(&stdout).ReadAll()
			}
			if err != nil {
				t.Errorf("stdout is not %s only: %v", flag, err)
			}
			if !strings.Contains(stderr.String(), "ops/s") {
				t.Errorf("the table is not on stderr:\n%s", stderr.String())
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := Main(append(append([]string(nil), smallArgs...), "-json", "-", "-csv", "-"), &stdout, &stderr); code != 2 {
		t.Fatalf("two outputs to stdout: run = %d, want 2", code)
	}
}

// TestProgressLines: when stderr is not a terminal, the command prints one
// line per layout, and one every progressEvery within a long replay.
func TestProgressLines(t *testing.T) {
	defer func(d time.Duration) { progressEvery = d }(progressEvery)
	progressEvery = time.Millisecond
	args := append(append([]string(nil), smallArgs...), "-layouts", "lru,lru-disk", "-duration", "50ms")
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	out := stderr.String()
	for _, layout := range []string{"lru", "lru > disk"} {
		if !regexp.MustCompile(`(?m)^bench: ` + regexp.QuoteMeta(layout) + `: \d+ ops in `).MatchString(out) {
			t.Errorf("no final line for %s in:\n%s", layout, out)
		}
		if !regexp.MustCompile(`(?m)^bench: ` + regexp.QuoteMeta(layout) + `: \d+ ops, .* elapsed$`).MatchString(out) {
			t.Errorf("no periodic line for %s in:\n%s", layout, out)
		}
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\033[") {
		t.Errorf("terminal control codes in a non-terminal stderr:\n%q", out)
	}
}
