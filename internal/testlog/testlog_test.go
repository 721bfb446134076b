package testlog

import (
	"strings"
	"sync"
	"testing"
)

func TestBuffer(t *testing.T) {
	var b Buffer
	if b.Lines() != nil || b.String() != "" {
		t.Fatalf("empty buffer: lines %q, text %q", b.Lines(), b.String())
	}
	l := b.Logger()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { l.Info("event", "n", i) })
	}
	wg.Wait()
	l.Debug("hidden")
	l.Warn("last", "k", "v")
	lines := b.Lines()
	if len(lines) != 5 || !strings.Contains(lines[4], `level=WARN msg=last k=v`) {
		t.Fatalf("lines %q; want 4 events and the warning, no debug", lines)
	}
	if !strings.HasSuffix(b.String(), "\n") {
		t.Fatalf("String %q lost the trailing newline", b.String())
	}
}
