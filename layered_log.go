package tiercache

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// Logging (WithLogger). Every message goes through a ratelog.Logger, which
// logs at most one message per key per interval and counts the others:
//
//	"tier N"        a tier's errors (Warn)
//	"tier N|panic"  panics recovered in tier N (Warn, with the stack)
//	"bus|<op>"      bus errors: subscribe (subscription lost), publish,
//	                invalidate (Warn)
//	"bus|up"        the subscription restored after a loss (Info)
//	"hook|panic"    panics of the error hook on the promotion worker (Warn)
//
// Nothing is logged on the hit path; a nil logger costs one nil check on
// the error paths.

// newLayeredLog returns the Layered's logger and its per-tier keys, or
// nils without a logger.
func newLayeredLog(cfg *layeredConfig, tiers int) (*ratelog.Logger, []string) {
	log := ratelog.New(cfg.logger, cfg.logEvery)
	if log == nil {
		return nil, nil
	}
	keys := make([]string, tiers)
	for i := range keys {
		keys[i] = "tier " + strconv.Itoa(i)
	}
	return log, keys
}

// logFailure logs an error of tier during op on key.
func (l *Layered) logFailure(tier int, op, key string, err error) {
	if l.log == nil {
		return
	}
	args := []any{slog.Int("tier", tier), slog.String("name", l.names[tier]), slog.String("op", op),
		slog.String("key", keyfmt.Quote(key)), slog.Any("error", err)}
	var pe *PanicError
	if errors.As(err, &pe) {
		l.log.Warn(l.logKeys[tier]+"|panic", "tiercache: recovered panic in a tier",
			append(args, slog.String("stack", string(pe.Stack)))...)
		return
	}
	l.log.Warn(l.logKeys[tier], "tiercache: tier failed", args...)
}

// logBus logs an error of the invalidation bus during op.
func (l *Layered) logBus(op, key string, err error) {
	if l.log == nil {
		return
	}
	msg := "tiercache: invalidation bus " + op + " failed"
	if op == opSubscribe {
		msg = "tiercache: invalidation bus subscription lost"
	}
	args := []any{slog.String("op", op), slog.Any("error", err)}
	if key != "" {
		args = append(args, slog.String("key", keyfmt.Quote(key)))
	}
	l.log.Warn("bus|"+op, msg, args...)
}

// logBusUp logs that a lost subscription is back.
func (l *Layered) logBusUp() {
	l.log.Info("bus|up", "tiercache: invalidation bus subscription restored")
}

// logHookPanic logs a panic (or runtime.Goexit) of the error hook, which
// cannot be reported through the hook. It runs in the worker's deferred
// recovery, so a panic of the log handler itself is dropped here.
func (l *Layered) logHookPanic(v any) {
	defer func() { _ = recover() }()
	l.log.Warn("hook|panic", "tiercache: error hook panicked on the promotion worker", slog.Any("panic", v))
}
