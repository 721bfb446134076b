package tiercache

import (
	"context"
	"math/rand/v2"
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
	pol := l.upperPolicy(p.pol) // capped with a bus (layered_bus.go)
	ok := p.stripe.tryPromote(p.gen, func() {
		for i := p.from - 1; i >= 0; i-- {
			if _, err := l.tiers[i].Put(ctx, p.key, p.resp, pol); err != nil {
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

// promoter is the bounded queue and the one worker of asynchronous promotion.
type promoter struct {
	mu     sync.RWMutex // write-locked only by close
	closed bool
	queue  chan promotion
	done   chan struct{}
}

func newPromoter(l *Layered, size int) *promoter {
	p := &promoter{queue: make(chan promotion, size), done: make(chan struct{})}
	go p.run(l)
	return p
}

func (p *promoter) run(l *Layered) {
	defer close(p.done)
	for pr := range p.queue {
		_ = l.report(pr.key, l.promoteNow(pr.ctx, pr))
	}
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
