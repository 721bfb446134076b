package tier

import (
	"context"
	"fmt"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// enqueue records a write of key (a Delete when resp is nil). It waits while
// the queue is full: in count for a key that is not pending yet
// (WithQueueSize), or in time for any write (WithMaxDelay).
func (w *WriteBackManager) enqueue(ctx context.Context, op, key string, resp *tiercache.Response, pol *tiercache.Policy) error {
	p := &pendingWrite{ctx: context.WithoutCancel(ctx), resp: resp, pol: pol}
	for {
		done, wait, err := w.coalesce(op, key, p)
		if done || err != nil {
			return err
		}
		if wait == nil {
			if err := w.acquire(ctx, op, key); err != nil {
				return err
			}
			if done, wait, err = w.insert(op, key, p); done || err != nil {
				return err
			}
		}
		if err := w.await(ctx, op, key, wait); err != nil {
			return err
		}
	}
}

// coalesce replaces the pending write of key with p, if there is one and
// the queue is not too old. When it is, it returns a channel closed when a
// pending write has been made.
func (w *WriteBackManager) coalesce(op, key string, p *pendingWrite) (bool, <-chan struct{}, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, nil, closedError(op, key)
	}
	if w.tooOldLocked() {
		return false, w.progress, nil
	}
	old, ok := w.pending[key]
	if !ok {
		return false, nil, nil
	}
	w.coalesced.Add(1)
	w.replaceLocked(key, old, p)
	return true, nil, nil
}

// insert makes p the pending write of key; the caller holds a slot, which
// insert gives back unless it queued key. Like coalesce, it returns a
// channel to wait on when the queue is too old.
func (w *WriteBackManager) insert(op, key string, p *pendingWrite) (bool, <-chan struct{}, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		<-w.slots
		return false, nil, closedError(op, key)
	}
	if w.tooOldLocked() {
		<-w.slots
		return false, w.progress, nil
	}
	if old, ok := w.pending[key]; ok { // queued by another caller while we waited
		<-w.slots
		w.coalesced.Add(1)
		w.replaceLocked(key, old, p)
		return true, nil, nil
	}
	if w.cfg.maxDelay > 0 {
		p.age = w.ages.PushBack(time.Now())
	}
	w.replaceLocked(key, nil, p)
	w.queue <- key
	return true, nil, nil
}

// replaceLocked makes p the pending write of key in place of old (nil for
// a key that was not pending), keeping old's place in the age list.
func (w *WriteBackManager) replaceLocked(key string, old, p *pendingWrite) {
	w.queued.Add(1)
	w.seq++
	p.seq = w.seq
	if old != nil {
		p.age = old.age
	}
	w.pending[key] = p
}

// tooOldLocked reports whether the oldest pending write has waited
// WithMaxDelay or longer.
func (w *WriteBackManager) tooOldLocked() bool {
	if w.cfg.maxDelay == 0 || w.ages.Len() == 0 {
		return false
	}
	return time.Since(w.ages.Front().Value.(time.Time)) >= w.cfg.maxDelay
}

// acquire takes a place in the queue, waiting while it is full.
func (w *WriteBackManager) acquire(ctx context.Context, op, key string) error {
	select {
	case w.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case w.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tier: writeback: %s %s: waiting for room in the queue: %w", op, keyfmt.Quote(key), ctx.Err())
	case <-w.closing:
		return closedError(op, key)
	}
}

// await waits for progress, the caller's context or Close.
func (w *WriteBackManager) await(ctx context.Context, op, key string, progress <-chan struct{}) error {
	select {
	case <-progress:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tier: writeback: %s %s: waiting for writes older than %v: %w",
			op, keyfmt.Quote(key), w.cfg.maxDelay, ctx.Err())
	case <-w.closing:
		return closedError(op, key)
	}
}

// removeLocked ends the pending write p of key once it has been made.
func (w *WriteBackManager) removeLocked(key string, p *pendingWrite) {
	delete(w.pending, key)
	<-w.slots
	if p.age != nil {
		w.ages.Remove(p.age)
		close(w.progress)
		w.progress = make(chan struct{})
	}
	w.wakeIdleLocked()
}

// wakeIdleLocked releases Flush waiters once nothing is pending.
func (w *WriteBackManager) wakeIdleLocked() {
	if len(w.pending) > 0 {
		return
	}
	for _, ch := range w.idle {
		close(ch)
	}
	w.idle = nil
}

func closedError(op, key string) error {
	return fmt.Errorf("tier: writeback: %s %s: %w", op, keyfmt.Quote(key), tiercache.ErrClosed)
}
