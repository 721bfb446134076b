package workload

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
)

// ReplayOptions tune Replay.
type ReplayOptions struct {
	// Workers is the number of concurrent clients (default GOMAXPROCS).
	Workers int
	// Duration, when positive, replays the operations in a loop until it
	// has elapsed instead of once.
	Duration time.Duration
	// Done, when non-nil, is incremented as operations complete (progress).
	Done *atomic.Int64
}

// Counts are the client-side outcomes of a replay.
type Counts struct {
	Ops     int64 // operations replayed (Gets, Puts and Deletes of the trace)
	Gets    int64
	Hits    int64 // Gets that returned a response
	Puts    int64 // Puts of the trace plus the Puts that follow a Get miss
	Deletes int64
	Errors  int64 // calls that returned an error
}

// HitRatio returns Hits/Gets (0 without Gets).
func (c Counts) HitRatio() float64 {
	if c.Gets == 0 {
		return 0
	}
	return float64(c.Hits) / float64(c.Gets)
}

// Result is the outcome of a Replay.
type Result struct {
	Counts
	Elapsed time.Duration
	Latency Histogram // per operation; a Get miss includes its Put
	Err     error     // the first error seen, if any
}

// OpsPerSec returns the throughput.
func (r *Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// chunk is the number of consecutive operations a worker claims at once: it
// keeps the global order close to the trace's order at little contention.
const chunk = 32

// Replay runs ops against m from opt.Workers goroutines, as a cache-aside
// client: a Get that misses is followed by a Put of the key's response.
func Replay(ctx context.Context, m tiercache.Manager, w *Workload, ops []Op, opt ReplayOptions) *Result {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var deadline time.Time
	start := time.Now()
	if opt.Duration > 0 {
		deadline = start.Add(opt.Duration)
	}
	results := make([]*Result, workers)
	var wg sync.WaitGroup
	for i := range results {
		results[i] = new(Result) // separate allocations: no false sharing
		wg.Go(func() {
			c := client{m: m, w: w, res: results[i]}
			defer func() { // a panicking tier ends this client with an error, not the process
				if v := recover(); v != nil {
					c.fail(tiercache.NewPanicError("bench replay", v))
				}
			}()
			for {
				first := next.Add(chunk) - chunk
				if (deadline.IsZero() && first >= int64(len(ops))) ||
					(!deadline.IsZero() && time.Now().After(deadline)) || ctx.Err() != nil {
					return
				}
				last := first + chunk
				if deadline.IsZero() {
					last = min(last, int64(len(ops)))
				}
				for j := first; j < last; j++ {
					c.do(ctx, ops[j%int64(len(ops))])
				}
				if opt.Done != nil {
					opt.Done.Add(last - first)
				}
			}
		})
	}
	wg.Wait()
	total := &Result{Elapsed: time.Since(start)}
	for _, r := range results {
		total.merge(r)
	}
	return total
}

func (r *Result) merge(o *Result) {
	r.Ops += o.Ops
	r.Gets += o.Gets
	r.Hits += o.Hits
	r.Puts += o.Puts
	r.Deletes += o.Deletes
	r.Errors += o.Errors
	r.Latency.Merge(&o.Latency)
	if r.Err == nil {
		r.Err = o.Err
	}
}

type client struct {
	m   tiercache.Manager
	w   *Workload
	res *Result
}

func (c *client) do(ctx context.Context, op Op) {
	key, resp := c.w.Keys[op.Key], c.w.Responses[op.Key]
	t0 := time.Now()
	switch op.Kind {
	case Get:
		c.res.Gets++
		got, _, err := c.m.Get(ctx, key)
		c.fail(err)
		if got != nil {
			c.res.Hits++
			break
		}
		c.put(ctx, key, resp)
	case Put:
		c.put(ctx, key, resp)
	case Delete:
		c.res.Deletes++
		c.fail(c.m.Delete(ctx, key))
	}
	c.res.Latency.Record(time.Since(t0))
	c.res.Ops++
}

func (c *client) put(ctx context.Context, key string, resp *tiercache.Response) {
	c.res.Puts++
	_, err := c.m.Put(ctx, key, resp, c.w.Policy)
	c.fail(err)
}

func (c *client) fail(err error) {
	if err != nil {
		c.res.Errors++
		if c.res.Err == nil {
			c.res.Err = err
		}
	}
}
