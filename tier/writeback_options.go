package tier

import "time"

// Defaults and ranges of the WriteBack options.
const (
	DefaultQueueSize    = 1024
	DefaultWorkers      = 2
	DefaultFlushTimeout = 10 * time.Second
	maxQueueSize        = 1 << 20
	maxWorkers          = 64
	minFlushTimeout     = time.Millisecond
	maxFlushTimeout     = 10 * time.Minute
	minMaxDelay         = time.Millisecond
	maxMaxDelay         = time.Hour
)

// WriteBackOption configures WriteBack. The options are WithQueueSize,
// WithWorkers, WithFlushTimeout, WithMaxDelay and WithErrorHook.
type WriteBackOption interface{ applyWriteBack(*writeBackConfig) }

// writeBackOption is a WriteBackOption made of a function.
type writeBackOption func(*writeBackConfig)

func (f writeBackOption) applyWriteBack(c *writeBackConfig) { f(c) }

type writeBackConfig struct {
	queueSize    int
	workers      int
	flushTimeout time.Duration
	maxDelay     time.Duration // 0: no bound in time
	onError      func(key string, err error)
}

func newWriteBackConfig(opts []WriteBackOption) writeBackConfig {
	c := writeBackConfig{queueSize: DefaultQueueSize, workers: DefaultWorkers, flushTimeout: DefaultFlushTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyWriteBack(&c)
		}
	}
	return c
}

// WithQueueSize bounds the keys waiting to be written (or being written);
// repeated writes of one key take one place. When the queue is full, Put and
// Delete of a new key block until there is room. A crash of the process
// loses the queued writes: up to this many acknowledged writes. Default
// DefaultQueueSize (1,024), range [1, 1<<20].
func WithQueueSize(n int) WriteBackOption {
	return writeBackOption(func(c *writeBackConfig) { c.queueSize = min(max(n, 1), maxQueueSize) })
}

// WithWorkers sets how many goroutines write to the wrapped Manager. One key
// is never written by two workers at once. Default DefaultWorkers, range
// [1, 64].
func WithWorkers(n int) WriteBackOption {
	return writeBackOption(func(c *writeBackConfig) { c.workers = min(max(n, 1), maxWorkers) })
}

// WithFlushTimeout bounds each background write with a context deadline.
// Default DefaultFlushTimeout, range [1ms, 10m].
func WithFlushTimeout(d time.Duration) WriteBackOption {
	return writeBackOption(func(c *writeBackConfig) { c.flushTimeout = min(max(d, minFlushTimeout), maxFlushTimeout) })
}

// WithMaxDelay bounds the queue in time as WithQueueSize bounds it in
// count: a Put or Delete is accepted only while the oldest queued write has
// waited less than d; otherwise it blocks, as for a full queue, until that
// write has been made (or its caller's context ends, or Close is called).
//
// So every write waiting in the queue was acknowledged less than d after
// the oldest one: a crash loses at most the writes acknowledged within one
// window of d (and at most the queue size of them), and while the wrapped
// Manager keeps up with the rate of writes, each write reaches it within d.
// When it does not (it is slow, hung or failing, each write bounded by
// WithFlushTimeout), callers wait instead of the queue growing older.
//
// It costs a clock read and a list update per accepted write. Default: no
// bound in time (0, and negative values, mean none); range [1ms, 1h].
func WithMaxDelay(d time.Duration) WriteBackOption {
	return writeBackOption(func(c *writeBackConfig) {
		if d <= 0 {
			c.maxDelay = 0
			return
		}
		c.maxDelay = min(max(d, minMaxDelay), maxMaxDelay)
	})
}

// WriteBackStats is a snapshot of a WriteBackManager's counters.
type WriteBackStats struct {
	Queued    uint64 // Puts and Deletes accepted into the queue
	Coalesced uint64 // of those, the ones that replaced a pending write of the same key
	Written   uint64 // background writes that succeeded
	Errors    uint64 // background writes that failed (each also reported to the hook)
	Panics    uint64 // panics and runtime.Goexit calls recovered on the workers (the wrapped Manager's or the hook's)
	Pending   int64  // keys waiting to be written or being written now
}
