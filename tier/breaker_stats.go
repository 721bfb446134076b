package tier

import (
	"log/slog"
	"time"

	"github.com/tiercache/tiercache"
)

// BreakerStats is a snapshot of a BreakerManager's state and counters.
type BreakerStats struct {
	// State is the circuit's state (a gauge: 0 closed, 1 open, 2 half-open).
	State BreakerState
	// Failures is the count of consecutive failures while closed (a gauge,
	// reset when the circuit opens).
	Failures int64
	// Opens counts the circuit opening: after WithThreshold failures, or
	// again after a failed trial call.
	Opens uint64
	// Closes counts trial calls that succeeded and closed the circuit.
	Closes uint64
	// Rejected counts calls refused while the circuit was open (errors
	// wrapping ErrOpen).
	Rejected uint64
}

// Stats returns a snapshot of the breaker: five atomic loads, no lock.
func (b *BreakerManager) Stats() BreakerStats {
	return BreakerStats{
		State: b.State(), Failures: b.failures.Load(),
		Opens: b.opens.Load(), Closes: b.closes.Load(), Rejected: b.rejected.Load(),
	}
}

// Metrics writes Stats as breaker.* values.
func (b *BreakerManager) Metrics(w tiercache.MetricWriter) {
	s := b.Stats()
	w.Gauge("breaker.state", "Circuit state: 0 closed, 1 open, 2 half-open.", int64(s.State))
	w.Gauge("breaker.failures", "Consecutive failures counted while the circuit is closed.", s.Failures)
	w.Counter("breaker.opens", "Times the circuit opened.", s.Opens)
	w.Counter("breaker.closes", "Trial calls that succeeded and closed the circuit.", s.Closes)
	w.Counter("breaker.rejected", "Calls refused while the circuit was open.", s.Rejected)
}

// Unwrap returns the Manager the breaker guards (for
// tiercache.ReadMetrics); calls made on it directly bypass the breaker.
func (b *BreakerManager) Unwrap() tiercache.Manager { return b.m }

// WithLogger makes a Breaker log the circuit opening (slog.LevelWarn, with
// the error that tripped it) and closing again (slog.LevelInfo), each at
// most once per 10 seconds: the changes in between are counted and the
// count is attached to the next message as "suppressed". Give l the tier's
// name (l.With("tier", "memcached")) to tell breakers apart. nil (the
// default) means no logging. Logging happens outside the breaker's lock.
func WithLogger(l *slog.Logger) BreakerOption {
	return breakerOption(func(c *breakerConfig) { c.logger = l })
}

// logOpen logs that the circuit opened; trial tells a failed trial call
// from a run of failures.
func (b *BreakerManager) logOpen(trial bool, err error) {
	if trial {
		b.log.Warn("open", "tier: circuit breaker open again: trial call failed",
			slog.Duration("cooldown", b.cooldown), slog.Any("error", err))
		return
	}
	b.log.Warn("open", "tier: circuit breaker opened",
		slog.Int64("failures", b.threshold), slog.Duration("cooldown", b.cooldown), slog.Any("error", err))
}

// logClose logs that a trial call closed the circuit.
func (b *BreakerManager) logClose() {
	b.log.Info("close", "tier: circuit breaker closed: trial call succeeded")
}

// withLogEvery sets the logging interval (for tests).
func withLogEvery(d time.Duration) BreakerOption {
	return breakerOption(func(c *breakerConfig) { c.logEvery = d })
}
