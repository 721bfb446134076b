package tier_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

// faulty is a fake whose calls of one op on one key run fault after the
// fake has answered (after its gate, if blocked): a panic or a Goexit.
type faulty struct {
	*fakeManager
	op, key string
	fault   func()
}

func (f *faulty) hit(op, key string) {
	if op == f.op && key == f.key {
		f.fault()
	}
}

func (f *faulty) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	resp, pol, err := f.fakeManager.Get(ctx, key)
	f.hit("get", key)
	return resp, pol, err
}

func (f *faulty) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	got, err := f.fakeManager.Put(ctx, key, resp, pol)
	f.hit("put", key)
	return got, err
}

func (f *faulty) Delete(ctx context.Context, key string) error {
	err := f.fakeManager.Delete(ctx, key)
	f.hit("delete", key)
	return err
}

// hookLog records the errors passed to an error hook.
type hookLog struct {
	mu   sync.Mutex
	keys []string
	errs []error
}

func (h *hookLog) hook(key string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys, h.errs = append(h.keys, key), append(h.errs, err)
}

// checkPanicReport fails unless the hook saw exactly one error, for key,
// wrapping ErrPanic and mentioning want.
func (h *hookLog) checkPanicReport(t *testing.T, key, want string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) != 1 || h.keys[0] != key {
		t.Fatalf("hook saw %q: %v; want one error for %q", h.keys, h.errs, key)
	}
	var pe *tiercache.PanicError
	if err := h.errs[0]; !errors.Is(err, tiercache.ErrPanic) || !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
		t.Fatalf("hook error %v: want a *PanicError wrapping ErrPanic that mentions %q", err, want)
	}
}

var faults = []struct {
	name  string
	fault func()
	want  string
}{
	{"panic", func() { panic("tier is broken") }, "tier is broken"},
	{"Goexit", runtime.Goexit, "runtime.Goexit"},
}

// TestWriteBackWorkerSurvivesPanics: a panic or a runtime.Goexit of the
// wrapped Manager, or of the error hook, on a worker is recovered (a Goexit
// replaces the worker), counted, and the tier's is reported as an error
// wrapping ErrPanic; the key stops being pending and later writes are made.
func TestWriteBackWorkerSurvivesPanics(t *testing.T) {
	for _, tc := range faults {
		for _, inHook := range []bool{false, true} {
			name := "tier " + tc.name
			if inHook {
				name = "tier panic, hook " + tc.name
			}
			t.Run(name, func(t *testing.T) {
				f := &faulty{fakeManager: newFake(), op: "put", key: "bad", fault: tc.fault}
				var h hookLog
				hook := h.hook
				if inHook {
					f.fault = func() { panic("tier is broken") }
					hook = func(string, error) { tc.fault() }
				}
				w := closing(t, tier.WriteBack(f, tier.WithWorkers(1), tier.WithErrorHook(hook)))
				tiercachetest.MustPut(t, w, "bad", resp("bad"), fresh())
				tiercachetest.MustPut(t, w, "good", resp("good"), fresh())
				flush(t, w) // hangs if the faulty write stayed pending
				tiercachetest.MustGet(t, f, "good", resp("good"))
				st := w.Stats()
				wantPanics := uint64(1)
				if inHook {
					wantPanics = 2
				}
				if st.Panics != wantPanics || st.Errors != 1 || st.Pending != 0 {
					t.Fatalf("Stats = %+v, want %d panics, 1 error, 0 pending", st, wantPanics)
				}
				if !inHook {
					h.checkPanicReport(t, "bad", tc.want)
				}
				if err := w.Close(); err != nil { // the worker count is intact
					t.Fatal(err)
				}
			})
		}
	}
}

// TestTimeoutAbandonedPanicIsReported: a call given up on that later
// panics or calls runtime.Goexit no longer crashes the process: it is
// counted, reported through WithErrorHook as ErrPanic, and its place among
// the abandoned calls is given back.
func TestTimeoutAbandonedPanicIsReported(t *testing.T) {
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			f := &faulty{fakeManager: newFake(), op: "get", key: "k", fault: tc.fault}
			release := f.block(t, true, "get")
			var h hookLog
			m := tier.Timeout(f, 5*time.Millisecond, tier.WithMaxAbandoned(1), tier.WithErrorHook(h.hook))
			if _, _, err := m.Get(context.Background(), "k"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Get error = %v, want DeadlineExceeded", err)
			}
			release() // the abandoned call now faults
			waitFor(t, "the abandoned call to end", func() bool { return m.Stats().Abandoned == 0 })
			if st := m.Stats(); st.Panics != 1 || st.Timeouts != 1 {
				t.Fatalf("Stats = %+v, want 1 panic, 1 timed out", st)
			}
			h.checkPanicReport(t, "k", tc.want)
			f.fault = func() {}
			if _, _, err := m.Get(context.Background(), "k"); err != nil {
				t.Fatalf("Get after the fault: %v (a leaked place among the abandoned calls fails fast)", err)
			}
		})
	}
}

// TestTimeoutGoexitDoesNotLeakSlot: runtime.Goexit in the wrapped Manager
// ends the caller's goroutine as it would without Timeout (like a panic is
// raised in the caller), at once rather than at the deadline, and leaves no
// call counted as abandoned: with WithMaxAbandoned(1) the next call works.
func TestTimeoutGoexitDoesNotLeakSlot(t *testing.T) {
	for _, op := range []string{"get", "put", "delete"} {
		t.Run(op, func(t *testing.T) {
			f := &faulty{fakeManager: newFake(), op: op, key: "k", fault: runtime.Goexit}
			m := tier.Timeout(f, time.Hour, tier.WithMaxAbandoned(1))
			returned := make(chan bool, 2)
			returnsWithin(t, op, func() {
				defer func() { returned <- false }() // runs on Goexit too
				_ = call(context.Background(), m, op, "k")
				returned <- true
			})
			if <-returned {
				t.Fatalf("%s returned; want the caller's goroutine to end as without Timeout", op)
			}
			if st := m.Stats(); st.Abandoned != 0 || st.Timeouts != 0 {
				t.Fatalf("Stats = %+v, want nothing abandoned", st)
			}
			f.fault = func() {}
			if err := call(context.Background(), m, op, "k"); err != nil {
				t.Fatalf("%s after the Goexit: %v", op, err)
			}
		})
	}
}
