package testserver

import (
	"bytes"
	"sync"
)

// limitedBuffer keeps the first max bytes written to it, for error
// messages. It is safe for concurrent use.
type limitedBuffer struct {
	max int
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write keeps what fits and reports every byte as written, so that the
// process never blocks or fails on its output.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// String returns what was kept.
func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
