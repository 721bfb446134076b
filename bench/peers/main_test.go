package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestTinyRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "peers.json")
	var stdout, stderr bytes.Buffer
	args := []string{"-keys", "500", "-ops", "2000", "-warmup", "200", "-bytes", "4194304", "-json", out}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(peers) {
		t.Fatalf("%d rows, want %d", len(rows), len(peers))
	}
	for _, r := range rows {
		if r.OpsPerSec <= 0 || r.HitRatio <= 0 || r.HitRatio > 1 {
			t.Errorf("%s: implausible row %+v", r.Peer, r)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-keys", "0"}, {"-peers", "nope"}, {"-bytes", "0"}, {"-x"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}
