package tier

import (
	"context"
	"errors"
	"fmt"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// flushState is the write a worker is making, for the worker that replaces
// it when a runtime.Goexit ends its goroutine.
type flushState struct {
	key string
	p   *pendingWrite
	// tierExit: the wrapped Manager called runtime.Goexit (not the hook);
	// the successor reports it as a failed write.
	tierExit bool
}

// work writes queued keys until the queue is closed and drained. Panics of
// the wrapped Manager and of the hook are recovered where they happen; a
// runtime.Goexit, which cannot be stopped, ends the goroutine, and its
// deferred function starts a successor that finishes the interrupted write
// (resume) and takes over the worker's place in wg.
func (w *WriteBackManager) work(resume *flushState) {
	var cur flushState
	clean := false
	defer func() {
		if clean {
			w.wg.Done()
			return
		}
		if !cur.tierExit { // the hook's Goexit; write counted the tier's
			w.panics.Add(1)
		}
		go w.work(&cur)
	}()
	if resume != nil && resume.p != nil {
		cur = flushState{key: resume.key, p: resume.p} // reported once, even if the hook exits too
		if resume.tierExit {
			w.fail(resume.key, writeError(writeOp(resume.p.resp), resume.key,
				tiercache.NewPanicError("tier writeback "+writeOp(resume.p.resp), "runtime.Goexit")))
		}
		w.flush(&cur, resume.key, w.finish(resume.key, resume.p))
	}
	for key := range w.queue {
		w.mu.RLock()
		p := w.pending[key]
		w.mu.RUnlock()
		w.flush(&cur, key, p)
	}
	clean = true
}

// flush writes p, the pending write of key, then again while newer ones
// were coalesced into it meanwhile, and then removes it. Only this worker
// writes key until then: the key is in the queue once per pending entry.
func (w *WriteBackManager) flush(cur *flushState, key string, p *pendingWrite) {
	for p != nil {
		*cur = flushState{key: key, p: p}
		w.apply(cur, key, p)
		p = w.finish(key, p)
	}
	*cur = flushState{}
}

// finish removes the pending write p of key if nothing newer arrived, and
// returns the newer one otherwise.
func (w *WriteBackManager) finish(key string, p *pendingWrite) *pendingWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := w.pending[key]
	if next.seq == p.seq {
		w.removeLocked(key, p)
		return nil
	}
	return next
}

// apply performs one background write and accounts for its outcome.
func (w *WriteBackManager) apply(cur *flushState, key string, p *pendingWrite) {
	err := w.write(cur, p.ctx, key, p.resp, p.pol)
	if err != nil && p.resp != nil {
		// Do not leave an older value readable in place of the one we lost.
		err = errors.Join(err, w.write(cur, p.ctx, key, nil, nil))
	}
	if err == nil {
		w.written.Add(1)
		return
	}
	w.fail(key, err)
}

// fail counts a failed background write and reports it to the hook.
func (w *WriteBackManager) fail(key string, err error) {
	w.errs.Add(1)
	if callHook(w.cfg.onError, key, err) {
		w.panics.Add(1)
	}
}

// write calls m.Put (or m.Delete when resp is nil) under the flush timeout.
// A panic of m is recovered and returned as a *tiercache.PanicError; a
// runtime.Goexit is recorded in cur for the successor worker.
func (w *WriteBackManager) write(cur *flushState, ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.flushTimeout)
	defer cancel()
	op := writeOp(resp)
	returned := false
	defer func() {
		v := recover()
		switch {
		case v != nil:
			w.panics.Add(1)
			err = writeError(op, key, tiercache.NewPanicError("tier writeback "+op, v))
		case !returned:
			w.panics.Add(1)
			cur.tierExit = true
		}
	}()
	if resp == nil {
		err = w.m.Delete(ctx, key)
	} else {
		_, err = w.m.Put(ctx, key, resp, pol)
	}
	returned = true
	if err != nil {
		return writeError(op, key, err)
	}
	return nil
}

func writeOp(resp *tiercache.Response) string {
	if resp == nil {
		return "delete"
	}
	return "put"
}

func writeError(op, key string, err error) error {
	return fmt.Errorf("tier: writeback: %s %s: %w", op, keyfmt.Quote(key), err)
}
