package tier_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/testlog"
	"github.com/tiercache/tiercache/tier"
)

// TestBreakerStatsAndLogs walks a breaker through open, rejected calls, a
// failed trial, a successful trial, and a second run of failures, checking
// the counters and the log lines at each step.
func TestBreakerStatsAndLogs(t *testing.T) {
	ctx := context.Background()
	var logs testlog.Buffer
	f, c := newFake(), newClock()
	b := tier.Breaker(f, tier.WithThreshold(2), tier.WithCooldown(time.Second), tier.WithClock(c.Now),
		tier.WithLogger(logs.Logger().With("tier", "memcached")), tier.WithLogEvery(time.Hour))
	get := func() error { _, _, err := b.Get(ctx, "k"); return err }

	f.setErr(errTier)
	_ = get()
	if s := b.Stats(); s != (tier.BreakerStats{State: tier.BreakerClosed, Failures: 1}) {
		t.Fatalf("after one failure: %+v", s)
	}
	_ = get() // opens
	for range 3 {
		if err := get(); !errors.Is(err, tier.ErrOpen) {
			t.Fatalf("Get while open = %v, want ErrOpen", err)
		}
	}
	want := tier.BreakerStats{State: tier.BreakerOpen, Opens: 1, Rejected: 3}
	if s := b.Stats(); s != want {
		t.Fatalf("open: %+v, want %+v", s, want)
	}
	c.advance(time.Second)
	_ = get() // failed trial: open again
	want.Opens = 2
	if s := b.Stats(); s != want {
		t.Fatalf("after a failed trial: %+v, want %+v", s, want)
	}
	c.advance(time.Second)
	f.setErr(nil)
	if err := get(); err != nil { // successful trial: closed
		t.Fatal(err)
	}
	want.State, want.Closes = tier.BreakerClosed, 1
	if s := b.Stats(); s != want {
		t.Fatalf("closed: %+v, want %+v", s, want)
	}
	f.setErr(errTier)
	_, _ = get(), get() // opens a third time: within the log interval, suppressed
	want.State, want.Opens = tier.BreakerOpen, 3
	if s := b.Stats(); s != want {
		t.Fatalf("reopened: %+v, want %+v", s, want)
	}

	lines := logs.Lines()
	wants := []string{
		`level=WARN msg="tier: circuit breaker opened" tier=memcached failures=2 cooldown=1s error="fake tier failure"`,
		`level=INFO msg="tier: circuit breaker closed: trial call succeeded" tier=memcached`,
	}
	if len(lines) != len(wants) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(wants), strings.Join(lines, "\n"))
	}
	for i, w := range wants {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %q\nwant it to contain %q", i, lines[i], w)
		}
	}
}

// TestBreakerMetricsThroughDecorators reads a Breaker's values through the
// decorators around it, as the exporters do, with the Timeout's below.
func TestBreakerMetricsThroughDecorators(t *testing.T) {
	f := newFake()
	b := tier.Breaker(tier.Timeout(f, time.Second), tier.WithThreshold(1))
	m := tier.ReadOnly(tier.Prefix(tier.Admit(b, tier.MaxBodySize(10)), "p:"))
	f.setErr(errTier)
	_, _, _ = m.Get(context.Background(), "k")
	_, _, _ = m.Get(context.Background(), "k")
	got := map[string]tiercache.Metric{}
	tiercache.ReadMetrics(m, func(mt tiercache.Metric) {
		if len(mt.Labels) != 0 {
			t.Errorf("%s has labels %v", mt.Name, mt.Labels)
		}
		got[mt.Name] = mt
	})
	for name, want := range map[string]int64{"breaker.state": 1, "breaker.opens": 1, "breaker.rejected": 1,
		"breaker.failures": 0, "breaker.closes": 0, "timeout.timeouts": 0, "timeout.abandoned": 0, "timeout.panics": 0} {
		mt, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		v := mt.Gauge
		if mt.Kind == tiercache.MetricCounter {
			v = int64(mt.Counter)
		}
		if v != want || mt.Help == "" {
			t.Errorf("%s = %d (help %q), want %d", name, v, mt.Help, want)
		}
	}
	if len(got) != 8 {
		t.Errorf("read %d values, want 8: %v", len(got), got)
	}
}

// TestWriteBackMetrics checks the write-back values after a flushed Put.
func TestWriteBackMetrics(t *testing.T) {
	w := tier.WriteBack(newFake())
	t.Cleanup(func() { _ = w.Close() })
	if _, err := w.Put(context.Background(), "k", resp("k"), fresh()); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	tiercache.ReadMetrics(w, func(m tiercache.Metric) { got[m.Name] = m.Counter + uint64(m.Gauge) })
	want := map[string]uint64{"writeback.queued": 1, "writeback.written": 1, "writeback.coalesced": 0,
		"writeback.errors": 0, "writeback.panics": 0, "writeback.pending": 0}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
}
