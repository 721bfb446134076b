// Package testlog captures what a component logs, for tests: a Buffer is
// the target of a slog text handler and hands back the text or its lines.
package testlog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// Buffer collects the output of a slog handler. It is safe for concurrent
// use; the zero value is empty and ready.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the lines written so far, without surrounding blank
// space; nil when nothing was written.
func (b *Buffer) Lines() []string {
	if s := strings.TrimSpace(b.String()); s != "" {
		return strings.Split(s, "\n")
	}
	return nil
}

// Logger returns a logger that writes text records at level Info and above
// into b.
func (b *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
