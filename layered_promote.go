package tiercache

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
)

// promotion is a value read from tier from, to be written into the tiers
// above it if the stripe's generation is still gen (rule P1).
type promotion struct {
	ctx    context.Context // set for queued promotions only
	key    string
	resp   *Response
	pol    *Policy
	from   int
	gen    uint64
	stripe *stripe
}

// promote writes p now or queues it. A value without a policy cannot be
// stored and is not promoted. It returns the tier errors of a synchronous
// promotion, for the caller to report.
func (l *Layered) promote(ctx context.Context, p promotion) []tierFailure {
	if p.pol == nil || p.from == 0 {
		return nil
	}
	if l.async == nil {
		return l.promoteNow(ctx, p)
	}
	// The caller's cancellation must not cancel a write done after it returned.
	p.ctx = context.WithoutCancel(ctx)
	if !l.async.enqueue(p) {
		l.stats.at(rand.Uint64(), p.from).dropped.Add(1)
	}
	return nil
}

// promoteNow writes p into the tiers above p.from, bottom-up, unless the
// stripe is busy or p is stale. It returns the tier errors, which the caller
// reports outside the stripe lock and outside any flight.
func (l *Layered) promoteNow(ctx context.Context, p promotion) []tierFailure {
	var errs []tierFailure
	p.pol = l.upperPolicy(p.pol) // capped with a bus (layered_bus.go)
	ok := p.stripe.tryPromote(p.gen, func() {
		for i := p.from - 1; i >= 0; i-- {
			if err := l.promoteInto(ctx, i, p); err != nil {
				errs = append(errs, tierFailure{i, opPromote, err})
				continue
			}
			l.stats.at(rand.Uint64(), i).promotions.Add(1)
		}
	})
	if !ok {
		l.stats.at(rand.Uint64(), p.from).skipped.Add(1)
	}
	return errs
}

// promoteInto writes p into tier i. On the worker (a queued promotion, whose
// ctx is set) a panic of the tier is recovered, counted and returned as a
// *PanicError, and a runtime.Goexit is recorded for the next worker to
// report; a synchronous promotion lets a panic reach the caller of Get, like
// a panic of a tier's Get.
func (l *Layered) promoteInto(ctx context.Context, i int, p promotion) (err error) {
	returned := false
	if p.ctx != nil {
		defer func() {
			v := recover()
			switch {
			case v != nil:
				err = l.panicked(i, opPromote, v)
			case !returned: // runtime.Goexit: this goroutine is ending
				l.async.goexit = tierFailure{i, opPromote, l.panicked(i, opPromote, "runtime.Goexit")}
				l.async.goexitKey = p.key
			}
		}()
	}
	_, err = l.tiers[i].Put(ctx, p.key, p.resp, p.pol)
	returned = true
	return err
}

// panicked counts a panic recovered in tier i during op and returns it as a
// *PanicError.
func (l *Layered) panicked(i int, op string, v any) error {
	l.stats.global.panics.Add(1)
	where := "layered tier " + strconv.Itoa(i)
	if l.names[i] != "" {
		where += " (" + l.names[i] + ")"
	}
	return NewPanicError(where+" "+op, v)
}

// promoter is the bounded queue and the one worker of asynchronous promotion.
type promoter struct {
	mu     sync.RWMutex // write-locked only by close
	closed bool
	queue  chan promotion
	done   chan struct{}

	// goexit is a runtime.Goexit met in a tier by the worker, for the next
	// worker to report. Only the worker goroutines use it, one after the
	// other (the go statement orders them).
	goexit    tierFailure
	goexitKey string
}

func newPromoter(l *Layered, size int) *promoter {
	p := &promoter{queue: make(chan promotion, size), done: make(chan struct{})}
	go p.run(l)
	return p
}

// run is the worker. Nothing a tier or the error hook does stops it: panics
// are recovered per promotion (promoteInto, promoteQueued), and when a
// runtime.Goexit ends its goroutine it starts a new one, which reports the
// Goexit first when a tier called it.
func (p *promoter) run(l *Layered) {
	clean := false
	defer func() {
		if !clean {
			if p.goexit.err == nil { // not counted by promoteInto: the hook's
				l.stats.global.panics.Add(1)
				l.logHookPanic("runtime.Goexit")
			}
			go p.run(l)
			return
		}
		close(p.done)
	}()
	if f := p.goexit; f.err != nil {
		p.goexit = tierFailure{}
		l.reportQueued(p.goexitKey, []tierFailure{f})
	}
	for pr := range p.queue {
		l.reportQueued(pr.key, l.promoteNow(pr.ctx, pr))
	}
	clean = true
}

// reportQueued reports the errors of a queued promotion on the worker. A
// panic of the error hook is recovered and counted in LayeredStats.Panics:
// it cannot be reported through the hook that raised it.
func (l *Layered) reportQueued(key string, fails []tierFailure) {
	defer func() {
		if v := recover(); v != nil {
			l.stats.global.panics.Add(1)
			l.logHookPanic(v)
		}
	}()
	_ = l.report(key, fails)
}

// enqueue queues pr without blocking; it reports false when the queue is
// full or closed. The read lock keeps close from closing the channel
// during the send.
func (p *promoter) enqueue(pr promotion) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case p.queue <- pr:
		return true
	default:
		return false
	}
}

// close stops accepting promotions, lets the worker drain the queue and
// waits for it to exit.
func (p *promoter) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	<-p.done
}
