package tier

import (
	"container/list"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// WriteBackManager queues writes to a tier and applies them in the
// background; see WriteBack. It implements tiercache.Manager and is safe for
// concurrent use.
type WriteBackManager struct {
	m       tiercache.Manager
	cfg     writeBackConfig
	slots   chan struct{} // one token per pending key: a full channel is a full queue
	queue   chan string   // keys waiting for a worker; never blocks (len <= len(pending) <= cap)
	closing chan struct{} // closed by Close: wakes Puts waiting for room
	once    sync.Once
	wg      sync.WaitGroup

	mu      sync.RWMutex
	closed  bool
	pending map[string]*pendingWrite
	seq     uint64
	idle    []chan struct{} // Flush waiters, closed when pending becomes empty
	// With WithMaxDelay: ages lists the acceptance times of the pending
	// keys, oldest first, and progress is closed (and replaced) whenever a
	// key stops being pending, to wake writers waiting for the oldest.
	ages     list.List
	progress chan struct{}

	queued, coalesced, written, errs, panics atomic.Uint64
}

// pendingWrite is the latest queued write of one key: a Put, or a Delete
// (resp == nil) that reads see as a tombstone. seq changes with every write
// coalesced into it, so a worker removes it only if nothing newer arrived.
type pendingWrite struct {
	ctx  context.Context // the caller's values, without its cancellation
	resp *tiercache.Response
	pol  *tiercache.Policy
	seq  uint64
	age  *list.Element // in ages (WithMaxDelay only): when the key became pending
}

var _ tiercache.Manager = (*WriteBackManager)(nil)

// WriteBack returns a Manager that queues Puts and Deletes and writes them to
// m on background workers (WithWorkers), for a slow tier whose write latency
// callers should not wait for. Call Close to flush the queue and stop the
// workers.
//
//   - Put and Delete validate their arguments, queue the write and return.
//     Repeated writes of one key coalesce: only the latest is written.
//   - Reads see queued writes: Get answers from the queue before asking m, a
//     queued Delete (or a Put whose policy allows no retention) is a miss.
//   - The queue is bounded in count (WithQueueSize) and optionally in time
//     (WithMaxDelay). When it is full, a write blocks until a worker makes
//     room, the caller's context is done (the error wraps ctx.Err()) or
//     Close is called (the error wraps tiercache.ErrClosed). Nothing is
//     dropped silently: a write is either queued or its caller gets an error.
//   - A background write that fails is counted and reported to the
//     WithErrorHook function; a failed Put is followed by a Delete of the key
//     so that m does not keep serving an older value. The queued write is then
//     gone: m misses (or, if that Delete failed too, may serve the older value).
//     A panic of m on a worker is such a failure (a *tiercache.PanicError
//     wrapping tiercache.ErrPanic); the worker goes on.
//   - Background writes carry the values of the caller's context but not its
//     cancellation, and are bounded by WithFlushTimeout.
//   - Close flushes every queued write and stops the workers; calls after
//     Close return an error wrapping tiercache.ErrClosed.
//
// Durability is that of a write-back cache: a write is acknowledged when it
// is queued, so a crash of the process (SIGKILL, power loss) loses the
// writes still queued, up to the queue size (DefaultQueueSize: 1,024
// acknowledged writes; a fault-injection run that killed a busy process
// lost exactly that many). WithMaxDelay adds a bound in time: the lost
// writes were then all acknowledged within one window of that length.
//
// The queue holds resp until it is written: do not modify resp after Put.
// Get and Put of a queued key cost a map lookup under a lock; Get of another
// key also costs a call of m.Get.
func WriteBack(m tiercache.Manager, opts ...WriteBackOption) *WriteBackManager {
	nilarg.Check("tier: WriteBack", "m", m)
	c := newWriteBackConfig(opts)
	w := &WriteBackManager{
		m:        m,
		cfg:      c,
		slots:    make(chan struct{}, c.queueSize),
		queue:    make(chan string, c.queueSize),
		closing:  make(chan struct{}),
		pending:  make(map[string]*pendingWrite),
		progress: make(chan struct{}),
	}
	w.wg.Add(c.workers)
	for range c.workers {
		go w.work(nil)
	}
	return w
}

// Get returns the queued value of key if a write of key is pending, and
// otherwise what the wrapped Manager holds.
func (w *WriteBackManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	w.mu.RLock()
	closed := w.closed
	p, ok := w.pending[key]
	var resp *tiercache.Response
	var pol *tiercache.Policy
	if ok {
		resp, pol = p.resp, p.pol
	}
	w.mu.RUnlock()
	switch {
	case closed:
		return nil, nil, fmt.Errorf("tier: writeback: get %s: %w", keyfmt.Quote(key), tiercache.ErrClosed)
	case !ok:
		return w.m.Get(ctx, key)
	case resp == nil || pol.KeepFor(time.Now()) <= 0:
		return nil, nil, nil
	}
	return resp, pol, nil
}

// Put queues resp for writing under key and returns resp. It blocks while
// the queue is full; see WriteBack.
func (w *WriteBackManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if err := w.enqueue(ctx, "put", key, resp, pol); err != nil {
		return nil, err
	}
	return resp, nil
}

// Delete queues the removal of key. Until it is written, Get of key misses.
// It blocks while the queue is full; see WriteBack.
func (w *WriteBackManager) Delete(ctx context.Context, key string) error {
	return w.enqueue(ctx, "delete", key, nil, nil)
}

// Flush blocks until no write is pending or ctx is done. Under a steady
// stream of writes the queue may never drain; use a deadline. Errors of the
// background writes go to the error hook, not to Flush.
func (w *WriteBackManager) Flush(ctx context.Context) error {
	w.mu.Lock()
	if len(w.pending) == 0 {
		w.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	w.idle = append(w.idle, ch)
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	if i := slices.Index(w.idle, ch); i >= 0 {
		w.idle = slices.Delete(w.idle, i, i+1)
	}
	w.mu.Unlock()
	return fmt.Errorf("tier: writeback: flush: %w", ctx.Err())
}

// Close writes every queued write to the wrapped Manager, stops the workers
// and returns nil. It waits for the last write: against a hung tier that can
// take up to queue length × WithFlushTimeout / WithWorkers. Writes waiting for
// room in a full queue return an error wrapping tiercache.ErrClosed. Close is
// idempotent and does not close the wrapped Manager.
func (w *WriteBackManager) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.closing)
		close(w.queue) // workers drain what is queued, then return
		w.mu.Unlock()
		w.wg.Wait()
	})
	return nil
}

// Stats returns a snapshot of the counters.
func (w *WriteBackManager) Stats() WriteBackStats {
	w.mu.RLock()
	n := len(w.pending)
	w.mu.RUnlock()
	return WriteBackStats{
		Queued:    w.queued.Load(),
		Coalesced: w.coalesced.Load(),
		Written:   w.written.Load(),
		Errors:    w.errs.Load(),
		Panics:    w.panics.Load(),
		Pending:   int64(n),
	}
}
