package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// background runs stale-while-revalidate revalidations: at most one per
// stored key and at most limit in all at a time, each on its own goroutine
// with a deadline, all stopped by Close.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	limit  int
	mu     sync.Mutex // guards keys and closed
	keys   map[string]struct{}
	closed bool
	wg     sync.WaitGroup
}

func (b *background) init(limit int) {
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.keys = make(map[string]struct{})
	b.limit = limit
}

// start reserves key. It reports false when key is already being
// revalidated or the Transport is closed, and full when the cap is reached.
func (b *background) start(key string) (ok, full bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, busy := b.keys[key]; busy || b.closed {
		return false, false
	}
	if len(b.keys) >= b.limit {
		return false, true
	}
	b.keys[key] = struct{}{}
	b.wg.Add(1)
	return true, false
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
// revalidation of e's key is already running or the cap is reached. The
// background request is a GET copy of c's request with the Transport's
// context and a deadline (the caller's context may end as soon as it has
// its stale response); its body is read up to the body size limit only.
func (t *Transport) refresh(c *call, e *entry) {
	ok, full := t.bg.start(e.key)
	if full {
		t.stats.skipped.Add(1)
	}
	if !ok {
		return
	}
	t.stats.refreshes.Add(1)
	t.stats.running.Add(1)
	ctx, cancel := context.WithTimeout(t.bg.ctx, t.opts.bgTimeout)
	req := c.req.Clone(ctx)
	req.Method = http.MethodGet
	bc := &call{t: t, req: req, mode: c.mode, dirs: c.dirs, key: c.key, now: c.now, background: true, shard: c.shard}
	bc.ho = c.ho.background(bc)
	go func() {
		defer t.bg.end(e.key)
		defer t.stats.running.Add(-1)
		defer cancel()
		defer t.recoverPanic(req, e.key)
		defer bc.ho.finish() // a Middleware's handler run: wait for it (Close waits too)
		resp, err := bc.revalidate(e, fwdStale)
		if err == nil {
			err = t.readBackground(resp)
		}
		if err != nil || bc.failed || resp.StatusCode >= http.StatusInternalServerError {
			t.stats.refreshErrs.Add(1)
			t.logRefreshError(bc, resp, err)
		}
	}()
}

// readBackground reads the body of a background revalidation's response so
// that it is stored, but never more than the body size limit (plus one
// byte, to see it outgrow the limit): a body that does not end there, or
// before the deadline, is closed and not stored.
func (t *Transport) readBackground(resp *http.Response) error {
	defer resp.Body.Close()
	if _, ok := resp.Body.(*captureBody); !ok {
		return nil // nothing to store
	}
	_, err := io.Copy(io.Discard, io.LimitReader(resp.Body, t.opts.maxBody+1))
	return err
}

// recoverPanic, deferred in a goroutine of the Transport, turns a panic
// into an error wrapping tiercache.ErrPanic for the ErrorHook and the log.
func (t *Transport) recoverPanic(req *http.Request, key string) {
	v := recover()
	if v == nil {
		return
	}
	t.stats.panics.Add(1)
	err := fmt.Errorf("httpcache: background revalidation of %s: %w: %v", keyfmt.Quote(key), tiercache.ErrPanic, v)
	t.log.Warn("panic", "httpcache: recovered panic", "err", err)
	if t.opts.onError != nil {
		t.opts.onError(req, err)
	}
}
