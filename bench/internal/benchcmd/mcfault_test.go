package benchcmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tiercache/tiercache/internal/testserver"
)

// TestKillServer runs the pool layouts on a small workload with
// -kill-server: the killed server is ejected, callers see no error, and
// the report carries the before/after phases in the table, JSON and CSV.
func TestKillServer(t *testing.T) {
	if _, ok := testserver.Memcached.Require(t, "bench"); !ok {
		return
	}
	dir := t.TempDir()
	args := []string{"-keys", "2000", "-ops", "6000", "-warmup", "1000", "-max-size", "16K", "-median-size", "2K",
		"-lru-entries", "100", "-lru-bytes", "256K", "-layouts", "lru-mc3,lru-mc3r2", "-kill-server",
		"-json", filepath.Join(dir, "out.json"), "-csv", filepath.Join(dir, "out.csv")}
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "-kill-server: lru > memcached×3 (replicas 1)") {
		t.Errorf("table lacks the -kill-server section:\n%s", stdout.String())
	}
	var rep Report
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	for _, r := range rep.Rows {
		f := r.Fault
		if f == nil || f.Killed == "" || f.Before.Ops+f.After.Ops != r.Ops {
			t.Fatalf("%s: fault report %+v for %d ops", r.Name, f, r.Ops)
		}
		if r.Errors != 0 || f.Before.Errors+f.After.Errors+f.Before.TierErrors+f.After.TierErrors != 0 {
			t.Errorf("%s: %d caller errors, fault %+v; want none", r.Name, r.Errors, f)
		}
		ejected := slices.IndexFunc(f.Servers, func(s FaultServer) bool { return s.Server == f.Killed && s.State == "ejected" })
		if ejected < 0 {
			t.Errorf("%s: killed server %s not ejected: %+v", r.Name, f.Killed, f.Servers)
		}
	}
	c, err := os.Open(filepath.Join(dir, "out.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs, err := csv.NewReader(c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "fault_killed_server")
	if col < 0 || recs[1][col] == "" || len(recs[1]) != len(recs[0]) {
		t.Errorf("CSV lacks the fault columns: %q / %q", recs[0], recs[1])
	}
}
