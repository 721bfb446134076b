package tiercache

import (
	"log/slog"
	"time"
)

// LayeredOption configures NewLayered. Options cannot fail: out-of-range
// values are clamped to the documented range.
type LayeredOption func(*layeredConfig)

// Bounds of WithAsyncPromotion.
const (
	MinPromotionQueue = 1
	MaxPromotionQueue = 1 << 20
)

// ErrorHook receives every error of a tier of a Layered: tier is the index
// among the non-nil tiers given to NewLayered (0 is the front), as in
// TierError and LayeredStats; op is "get", "put", "delete" or "promote". It
// runs on the goroutine of the call (or of the promotion worker), never
// under a Layered lock nor inside a read shared with other Gets, so it may
// call the Layered's Get, Put and Delete. It must not call Close: with
// WithAsyncPromotion, Close waits for the worker that runs the hook. It must
// be safe for concurrent use and should return quickly.
type ErrorHook func(tier int, op string, key string, err error)

type layeredConfig struct {
	queue    int // async promotion queue size; 0 means synchronous promotion
	names    []string
	hook     ErrorHook
	strict   bool
	bus      busConfig     // WithBus, WithBusMaxAge (layered_bus.go)
	logger   *slog.Logger  // WithLogger (layered_log.go)
	logEvery time.Duration // ratelog interval; 0 means ratelog.DefaultEvery
}

// WithAsyncPromotion makes promotion asynchronous: a hit in a lower tier is
// queued (up to queueSize pending promotions, clamped to
// [MinPromotionQueue, MaxPromotionQueue]) and written into the upper tiers by
// one worker goroutine. When the queue is full the promotion is dropped and
// counted (LayeredStats.PromotionsDropped); Get never blocks on it. Close
// drains the queue and stops the worker. The default is synchronous
// promotion, done by Get before it returns.
func WithAsyncPromotion(queueSize int) LayeredOption {
	return func(c *layeredConfig) {
		c.queue = min(max(queueSize, MinPromotionQueue), MaxPromotionQueue)
	}
}

// WithTierNames names the tiers in errors and stats (for example "lru",
// "memcached"): names[i] names tiers[i] of the slice given to NewLayered,
// nil entries included, so the names stay with their tiers when nil entries
// are left out. Missing names are empty; extra names are ignored.
func WithTierNames(names ...string) LayeredOption {
	return func(c *layeredConfig) { c.names = append([]string(nil), names...) }
}

// WithErrorHook sets a function called with every tier error, including
// the errors that fail-open Gets turn into misses and the panics recovered
// in the promotion worker (a *PanicError wrapping ErrPanic, op "promote").
// nil (the default) means none.
func WithErrorHook(hook ErrorHook) LayeredOption {
	return func(c *layeredConfig) { c.hook = hook }
}

// WithFailOnError makes a tier error fail the Get that met it (strict mode)
// instead of counting as a miss and going on to the next tier (fail-open,
// the default). Put and Delete return tier errors in either mode; errors of
// promotions never fail a Get.
func WithFailOnError(strict bool) LayeredOption {
	return func(c *layeredConfig) { c.strict = strict }
}

// WithLogger makes the Layered log to l: tier errors and recovered panics
// at slog.LevelWarn (the panic with its stack), the loss of its bus
// subscription and failed publishes at Warn, and the subscription's
// recovery at slog.LevelInfo. Each kind of message is logged at most once
// per 10 seconds per tier (and per bus operation): a dead tier that fails
// every call writes one line per 10 seconds, which carries the number of
// messages suppressed since the last one. Messages are written on the
// goroutine of the call, outside every Layered lock, so l's handler may be
// slow without blocking other keys. nil (the default) means no logging,
// and logging costs nothing on the hit path either way.
func WithLogger(l *slog.Logger) LayeredOption {
	return func(c *layeredConfig) { c.logger = l }
}
