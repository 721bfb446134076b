package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestWarnRateLimitedPerKey(t *testing.T) {
	var buf bytes.Buffer
	r := New(slog.New(slog.NewTextHandler(&buf, nil)), time.Minute)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }

	r.Warn("tier0", "tier failed", "n", 1)
	r.Warn("tier0", "tier failed", "n", 2) // suppressed
	r.Warn("tier0", "tier failed", "n", 3) // suppressed
	r.Warn("tier1", "tier failed", "n", 4) // other key: logged
	now = now.Add(time.Minute)
	r.Warn("tier0", "tier failed", "n", 5) // logged with suppressed=2

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"n=1", "n=4", "n=5 suppressed=2"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "level=WARN") {
			t.Errorf("line %d = %q, want it to contain %q at WARN", i, lines[i], want)
		}
	}
}

func TestNilLogger(t *testing.T) {
	if New(nil, 0) != nil {
		t.Fatal("New(nil) is not nil")
	}
	var r *Logger
	r.Warn("k", "no panic") // must not panic
	r.Info("k", "no panic")
}

func TestDisabledLevelCostsNothing(t *testing.T) {
	var buf bytes.Buffer
	r := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})), time.Nanosecond)
	r.Warn("k", "hidden")
	if buf.Len() != 0 || len(r.keys) != 0 {
		t.Fatalf("a disabled level logged %q or kept state for %d keys", buf.String(), len(r.keys))
	}
}
