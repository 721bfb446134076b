package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestTraceTable(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		b.WriteString(strconv.Itoa(i%40) + " 1 0 0\n" + strconv.Itoa(100000+2*i) + " 2 0 0\n")
	}
	path := filepath.Join(t.TempDir(), "loop.lis")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-trace", path, "-sizes", "20,80"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, c := range traceCaches {
		if !strings.Contains(out, c.name) {
			t.Errorf("table lacks %s:\n%s", c.name, out)
		}
	}
	if strings.Contains(out, "failed") || !strings.Contains(out, "9000 requests") {
		t.Errorf("table:\n%s", out)
	}
	if code := run([]string{"-trace", path, "-sizes", "0"}, &stdout, &stderr); code != 2 {
		t.Errorf("-sizes 0: exit %d, want 2", code)
	}
}
