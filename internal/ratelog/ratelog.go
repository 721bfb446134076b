// Package ratelog writes warnings to a *slog.Logger at most once per
// interval per key (a tier, a server), so a dead tier that fails every call
// cannot flood the logs. Messages dropped in between are counted and the
// count is attached to the next message logged for that key.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultEvery is the interval used when New is given none.
const DefaultEvery = 10 * time.Second

// Logger is a rate-limited warning logger. A nil *Logger logs nothing, so
// components keep one unconditionally. It is safe for concurrent use; a
// call takes one mutex and, when it logs, calls the slog handler outside it.
type Logger struct {
	l     *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*state
}

type state struct {
	last       time.Time
	suppressed uint64
}

// New returns a Logger writing to l at most once per every (DefaultEvery
// when <= 0) per key. It returns nil when l is nil.
func New(l *slog.Logger, every time.Duration) *Logger {
	if l == nil {
		return nil
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &Logger{l: l, every: every, now: time.Now, keys: make(map[string]*state)}
}

// Warn logs msg with args at slog.LevelWarn unless a message for key was
// logged less than the interval ago, in which case it only counts it. A
// logged message carries "suppressed" (the count dropped since the last one)
// when that count is not zero.
func (r *Logger) Warn(key, msg string, args ...any) {
	r.log(slog.LevelWarn, key, msg, args)
}

// Info is Warn at slog.LevelInfo, for state changes that are good news (a
// server rejoining, a subscription restored). It shares the rate limit of key.
func (r *Logger) Info(key, msg string, args ...any) {
	r.log(slog.LevelInfo, key, msg, args)
}

func (r *Logger) log(level slog.Level, key, msg string, args []any) {
	if r == nil || !r.l.Enabled(context.Background(), level) {
		return
	}
	now := r.now()
	r.mu.Lock()
	st := r.keys[key]
	if st == nil {
		st = &state{}
		r.keys[key] = st
	} else if now.Sub(st.last) < r.every {
		st.suppressed++
		r.mu.Unlock()
		return
	}
	st.last = now
	dropped := st.suppressed
	st.suppressed = 0
	r.mu.Unlock()
	if dropped > 0 {
		args = append(args, slog.Uint64("suppressed", dropped))
	}
	r.l.Log(context.Background(), level, msg, args...)
}
