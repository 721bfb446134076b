package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiercache/tiercache/bench/internal/benchcmd"
	"github.com/tiercache/tiercache/internal/redistest"
)

// tinyArgs is a small workload: a run of the three layouts takes well
// under a second.
var tinyArgs = []string{"-keys", "1000", "-ops", "4000", "-warmup", "1000", "-max-size", "16K", "-median-size", "2K",
	"-lru-entries", "100", "-lru-bytes", "256K", "-memcached", "off"}

func args(extra ...string) []string { return append(append([]string(nil), tinyArgs...), extra...) }

func readReport(t *testing.T, path string) benchcmd.Report {
	t.Helper()
	var rep benchcmd.Report
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkRedisRow checks a redis layout's row: no errors, the redis tier
// answered lookups, holds bytes and had its lookups sampled.
func checkRedisRow(t *testing.T, r benchcmd.Row, tierName string) {
	t.Helper()
	if r.Error != "" || r.Errors != 0 || r.Ops == 0 || len(r.Tiers) != 2 {
		t.Fatalf("%s: %d ops, %d errors (%q), %d tiers", r.Name, r.Ops, r.Errors, r.Error, len(r.Tiers))
	}
	lower := r.Tiers[1]
	if lower.Name != tierName || lower.Gets == 0 || lower.Hits == 0 || lower.BytesWritten <= 0 || lower.BytesHeld <= 0 {
		t.Errorf("%s: lower tier %+v", r.Name, lower)
	}
	if l := lower.Latency; l == nil || l.Samples == 0 || l.P50Us <= 0 {
		t.Errorf("%s: lower tier lookup latency %+v", r.Name, l)
	}
	if r.HitRatio <= r.Tiers[0].HitRatio {
		t.Errorf("%s: hit ratio %.3f, no better than the front's %.3f", r.Name, r.HitRatio, r.Tiers[0].HitRatio)
	}
}

// TestRedisLayouts runs lru > redis and lru > zstd(redis) on a
// redis-server the command starts (it skips without one, and fails under
// CI=true).
func TestRedisLayouts(t *testing.T) {
	if !redistest.Available(t) {
		return
	}
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	if code := benchcmd.Main(args("-layouts", "lru-redis,lru-zredis", "-json", out), &stdout, &stderr); code != 0 {
		t.Fatalf("Main = %d; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "lru > zstd(redis)") {
		t.Errorf("the table lacks lru > zstd(redis):\n%s", stdout.String())
	}
	rep := readReport(t, out)
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	checkRedisRow(t, rep.Rows[0], "redis")
	checkRedisRow(t, rep.Rows[1], "zstd(redis)")
	if z, p := rep.Rows[1].BytesMovedDown, rep.Rows[0].BytesMovedDown; z >= p {
		t.Errorf("moved down: %d compressed, %d plain", z, p)
	}
}

// TestGivenServer: with -redis host:port the layouts use that server,
// under a key prefix of their own, and leave it running; an unreachable
// one is reported and its layouts skipped.
func TestGivenServer(t *testing.T) {
	srv := redistest.Start(t)
	if srv == nil {
		return
	}
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	if code := benchcmd.Main(args("-layouts", "lru-redis", "-redis", srv.Addr, "-json", out), &stdout, &stderr); code != 0 {
		t.Fatalf("Main = %d; stderr:\n%s", code, stderr.String())
	}
	checkRedisRow(t, readReport(t, out).Rows[0], "redis")
	key, err := redistest.Command(srv.Addr, "RANDOMKEY")
	if err != nil || !strings.HasPrefix(key, "tiercache-bench-") || !strings.Contains(key, "-lru-redis:") {
		t.Errorf("a key on the given server: %q, %v", key, err)
	}

	srv.Kill()
	stdout.Reset()
	stderr.Reset()
	if code := benchcmd.Main(args("-layouts", "lru,lru-redis", "-redis", srv.Addr), &stdout, &stderr); code != 0 {
		t.Fatalf("dead server: Main = %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "is unreachable") || !strings.Contains(stdout.String(), "note: skipped lru > redis: no redis") {
		t.Errorf("dead server: stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

// TestHandOver runs the main module's bench (go run ./bench) with a redis
// layout: it hands the run over to this module, says so, and the output
// file named by a relative path lands in its working directory.
func TestHandOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two commands; skipped with -short")
	}
	if !redistest.Available(t) {
		return
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bench := filepath.Join(work, "bench")
	build := exec.Command(goBin, "build", "-o", bench, "./bench")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./bench: %v\n%s", err, out)
	}
	cmd := exec.Command(bench, args("-layouts", "lru,lru-redis", "-json", "out.json")...)
	cmd.Dir = work
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v; stdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	const says = "bench: redis layouts live in module bench/redis so that the main module does not depend on go-redis; running it"
	if !strings.Contains(stderr.String(), says) {
		t.Errorf("stderr does not say it hands over:\n%s", stderr.String())
	}
	rep := readReport(t, filepath.Join(work, "out.json"))
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	checkRedisRow(t, rep.Rows[1], "redis")

	// The exit status passes through: an output that cannot be written
	// fails the handed-over run (1), reported by it.
	cmd = exec.Command(bench, args("-layouts", "lru-redis", "-json", filepath.Join(work, "missing", "out.json"))...)
	cmd.Dir = work
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("unwritable output: %v, want exit status 1", err)
	}
	if msg := stderr.String(); !strings.Contains(msg, "bench: -json ") || strings.Contains(msg, "cannot run module") {
		t.Errorf("unwritable output: stderr:\n%s", msg)
	}
}
