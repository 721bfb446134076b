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
)

// WriteBackOption configures WriteBack.
type WriteBackOption func(*writeBackConfig)

type writeBackConfig struct {
	queueSize    int
	workers      int
	flushTimeout time.Duration
	onError      func(key string, err error)
}

func newWriteBackConfig(opts []WriteBackOption) writeBackConfig {
	c := writeBackConfig{queueSize: DefaultQueueSize, workers: DefaultWorkers, flushTimeout: DefaultFlushTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithQueueSize bounds the keys waiting to be written (or being written);
// repeated writes of one key take one place. When the queue is full, Put and
// Delete of a new key block until there is room. Default DefaultQueueSize,
// range [1, 1<<20].
func WithQueueSize(n int) WriteBackOption {
	return func(c *writeBackConfig) { c.queueSize = min(max(n, 1), maxQueueSize) }
}

// WithWorkers sets how many goroutines write to the wrapped Manager. One key
// is never written by two workers at once. Default DefaultWorkers, range
// [1, 64].
func WithWorkers(n int) WriteBackOption {
	return func(c *writeBackConfig) { c.workers = min(max(n, 1), maxWorkers) }
}

// WithFlushTimeout bounds each background write with a context deadline.
// Default DefaultFlushTimeout, range [1ms, 10m].
func WithFlushTimeout(d time.Duration) WriteBackOption {
	return func(c *writeBackConfig) { c.flushTimeout = min(max(d, minFlushTimeout), maxFlushTimeout) }
}

// WithErrorHook sets a function called with the key and the error of each
// background write that fails. It runs on a worker goroutine, outside any
// lock, and must be safe for concurrent use; a slow hook delays the queue.
// It must not call Close (which waits for the worker running the hook) nor
// wait in Flush (the failed key stays pending until the hook returns).
// The default (and nil) only counts the error in WriteBackStats.
func WithErrorHook(fn func(key string, err error)) WriteBackOption {
	return func(c *writeBackConfig) { c.onError = fn }
}

// WriteBackStats is a snapshot of a WriteBackManager's counters.
type WriteBackStats struct {
	Queued    uint64 // Puts and Deletes accepted into the queue
	Coalesced uint64 // of those, the ones that replaced a pending write of the same key
	Written   uint64 // background writes that succeeded
	Errors    uint64 // background writes that failed (each also reported to the hook)
	Pending   int    // keys waiting to be written or being written now
}
