package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestTimerless(t *testing.T) {
	tests := []struct {
		name string
		opt  goredis.Options
		want bool
	}{
		{"recommended", goredis.Options{ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1}, true},
		{"retries", goredis.Options{ContextTimeoutEnabled: true, DialerRetries: 1}, false},
		{"dial retries", goredis.Options{ContextTimeoutEnabled: true, MaxRetries: -1}, false},
		{"no context deadlines", goredis.Options{DialerRetries: 1, MaxRetries: -1}, false},
	}
	for _, tc := range tests {
		opt := tc.opt
		opt.Addr = "127.0.0.1:1"
		c := goredis.NewClient(&opt)
		if got := timerless(c); got != tc.want {
			t.Errorf("%s: timerless = %v, want %v", tc.name, got, tc.want)
		}
		_ = c.Close()
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer cc.Close()
	if timerless(cc) || !contextAware(cc) {
		t.Error("a cluster client (redirects with pauses) must use a timer and is context-aware")
	}
}

func TestDeadlineCtx(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	d := time.Now().Add(50 * time.Millisecond)
	ctx := &deadlineCtx{parent, d}
	if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v", got, ok)
	}
	if ctx.Err() != nil {
		t.Fatalf("Err before the deadline = %v", ctx.Err())
	}
	waitFor(t, "the deadline", func() bool { return errors.Is(ctx.Err(), context.DeadlineExceeded) })
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after the parent's cancel = %v, want Canceled", ctx.Err())
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done is not the parent's")
	}
}
