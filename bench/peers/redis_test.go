package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiercache/tiercache/internal/redistest"
)

func TestRedisTinyRun(t *testing.T) {
	if !redistest.Available(t) {
		return
	}
	out := filepath.Join(t.TempDir(), "redis.json")
	var stdout, stderr bytes.Buffer
	args := []string{"-redis", "start", "-keys", "500", "-ops", "2000", "-warmup", "200", "-bytes", "4194304", "-json", out}
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
	if len(rows) != len(redisStacks) {
		t.Fatalf("%d rows, want %d", len(rows), len(redisStacks))
	}
	for _, r := range rows {
		if r.OpsPerSec <= 0 || r.HitRatio <= 0 || r.HitRatio > 1 || r.Errors != 0 {
			t.Errorf("%s: implausible row %+v", r.Peer, r)
		}
	}
	if !strings.Contains(stdout.String(), "go-redis/cache") {
		t.Errorf("output lacks the go-redis/cache row:\n%s", stdout.String())
	}
}

func TestRedisUnreachable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-redis", "127.0.0.1:1", "-keys", "100", "-ops", "100", "-warmup", "10"}, &stdout, &stderr); code != 1 {
		t.Fatalf("run with an unreachable Redis = %d, want 1; %s", code, stderr.String())
	}
}
