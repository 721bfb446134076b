package httpcache

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// background runs stale-while-revalidate revalidations: at most one per
// stored key at a time, each on its own goroutine, all stopped by Close.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards keys and closed
	keys   map[string]struct{}
	closed bool
	wg     sync.WaitGroup
}

func (b *background) init() {
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.keys = make(map[string]struct{})
}

// start reserves key; it reports false when key is already being
// revalidated or the Transport is closed.
func (b *background) start(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, busy := b.keys[key]; busy || b.closed {
		return false
	}
	b.keys[key] = struct{}{}
	b.wg.Add(1)
	return true
}

func (b *background) end(key string) {
	b.mu.Lock()
	delete(b.keys, key)
	b.mu.Unlock()
	b.wg.Done()
}

func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

// refresh revalidates e in the background for the call c, unless a
// revalidation of e's key is already running. The background request is a
// GET copy of c's request with the Transport's context (the caller's may
// end as soon as it has its stale response).
func (t *Transport) refresh(c *call, e *entry) {
	if !t.bg.start(e.key) {
		return
	}
	req := c.req.Clone(t.bg.ctx)
	req.Method = http.MethodGet
	bc := &call{t: t, req: req, mode: c.mode, dirs: c.dirs, key: c.key, now: c.now}
	go func() {
		defer t.bg.end(e.key)
		resp, err := bc.revalidate(e, fwdStale)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
}
