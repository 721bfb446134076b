package tier_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
)

// call runs one Manager method by name and returns its error.
func call(ctx context.Context, m tiercache.Manager, op, key string) error {
	switch op {
	case "get":
		_, _, err := m.Get(ctx, key)
		return err
	case "put":
		_, err := m.Put(ctx, key, resp(key), fresh())
		return err
	default:
		return m.Delete(ctx, key)
	}
}

func TestTimeoutSlowTier(t *testing.T) {
	for _, op := range []string{"get", "put", "delete"} {
		for _, ignoreCtx := range []bool{false, true} {
			name := op
			if ignoreCtx {
				name += "/IgnoresContext"
			}
			t.Run(name, func(t *testing.T) {
				f := newFake()
				f.block(t, ignoreCtx, op)
				m := tier.Timeout(f, 10*time.Millisecond)
				var err error
				returnsWithin(t, op, func() { err = call(context.Background(), m, op, "k") })
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s error = %v, want context.DeadlineExceeded", op, err)
				}
			})
		}
	}
}

func TestTimeoutCallerCancel(t *testing.T) {
	f := newFake()
	f.block(t, true, "get")
	m := tier.Timeout(f, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var err error
	returnsWithin(t, "get", func() { _, _, err = m.Get(ctx, "k") })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestTimeoutMaxAbandoned(t *testing.T) {
	f := newFake()
	release := f.block(t, true, "get")
	m := tier.Timeout(f, 5*time.Millisecond, tier.WithMaxAbandoned(2))
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := m.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get %d error = %v, want context.DeadlineExceeded", i, err)
		}
	}
	if n := f.gets.Load(); n != 2 {
		t.Fatalf("the tier saw %d Gets, want 2 (the third must fail fast)", n)
	}
	release()
	waitFor(t, "abandoned calls to finish", func() bool {
		_, _, err := m.Get(ctx, "k")
		return err == nil
	})
}

// TestTimeoutWriteOrder checks that a Delete issued after a timed-out Put is
// never overtaken by the late Put.
func TestTimeoutWriteOrder(t *testing.T) {
	f := newFake()
	release := f.block(t, true, "put")
	m := tier.Timeout(f, 5*time.Millisecond)
	ctx := context.Background()
	if _, err := m.Put(ctx, "k", resp("old"), fresh()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put error = %v, want context.DeadlineExceeded", err)
	}
	if err := m.Delete(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Delete error = %v, want context.DeadlineExceeded (it waits for the Put)", err)
	}
	if n := f.deletes.Load(); n != 0 {
		t.Fatalf("Delete reached the tier before the earlier Put finished")
	}
	release()
	// The Delete reached the tier only now, after the Put: the key goes.
	waitFor(t, "the queued Delete", func() bool { return f.deletes.Load() == 1 && len(f.keys()) == 0 })
	// Order bookkeeping is released: writes pass straight through again.
	waitFor(t, "a Put to succeed", func() bool {
		_, err := m.Put(ctx, "k", resp("new"), fresh())
		return err == nil
	})
}

func TestTimeoutPassesAnswers(t *testing.T) {
	f := newFake()
	m := tier.Timeout(f, time.Minute)
	f.setErr(errTier, "get")
	if _, _, err := m.Get(context.Background(), "k"); !errors.Is(err, errTier) {
		t.Fatalf("Get error = %v, want the tier's error", err)
	}
	if _, err := m.Put(context.Background(), "", resp("a"), fresh()); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Put with empty key error = %v, want ErrInvalid", err)
	}
	if f.puts.Load() != 0 {
		t.Fatalf("an invalid Put reached the tier")
	}
}
