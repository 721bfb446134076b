package tiercache_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// panicHook records the errors passed to a Layered's error hook.
type panicHook struct {
	mu   sync.Mutex
	errs []error
	ops  []string
}

func (h *panicHook) hook(tier int, op, key string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
	h.ops = append(h.ops, op+" "+key)
}

// TestLayeredAsyncPromotionSurvivesPanics: a panic or a runtime.Goexit in a
// tier, or a panic of the error hook, on the promotion worker is recovered,
// counted and (for the tier's) reported as an error wrapping ErrPanic that
// names the tier; the worker goes on with the next promotion.
func TestLayeredAsyncPromotionSurvivesPanics(t *testing.T) {
	tests := []struct {
		name     string
		fault    func() // run by the front tier's Put of key "bad"
		hookDies func() // run by the hook instead of recording, if set
		want     string // in the reported error; "" when nothing can be reported
	}{
		{"tier panics", func() { panic("front is broken") }, nil, "front is broken"},
		{"tier calls Goexit", runtime.Goexit, nil, "runtime.Goexit"},
		{"hook panics too", func() { panic("front is broken") }, func() { panic("hook is broken") }, ""},
		{"hook calls Goexit", func() { panic("front is broken") }, runtime.Goexit, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h panicHook
			hook := h.hook
			if tc.hookDies != nil {
				hook = func(int, string, string, error) { tc.hookDies() }
			}
			front, back := newTierFake(0, nil), newTierFake(1, nil)
			front.onPut = func(key string) {
				if key == "bad" {
					tc.fault()
				}
			}
			l := tiercache.NewLayered([]tiercache.Manager{front, back}, tiercache.WithAsyncPromotion(8),
				tiercache.WithTierNames("front", "back"), tiercache.WithErrorHook(hook))
			for _, key := range []string{"bad", "good"} {
				back.set(key, tiercachetest.Response(key, 8), hourPolicy())
				tiercachetest.MustGet(t, l, key, tiercachetest.Response(key, 8)) // queues a promotion
			}
			if err := l.Close(); err != nil { // drains the queue
				t.Fatal(err)
			}
			if front.entry("good").resp == nil {
				t.Fatal("the promotion queued after the fault was not written: the worker died")
			}
			wantPanics := uint64(1)
			if tc.hookDies != nil {
				wantPanics = 2 // the tier's, then the hook's while reporting it
			}
			if st := l.Stats(); st.Panics != wantPanics {
				t.Errorf("Stats().Panics = %d, want %d", st.Panics, wantPanics)
			}
			if tc.want == "" {
				return
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.errs) != 1 || h.ops[0] != "promote bad" {
				t.Fatalf("hook calls %q (%v), want one promote of bad", h.ops, h.errs)
			}
			err := h.errs[0]
			var pe *tiercache.PanicError
			if !errors.Is(err, tiercache.ErrPanic) || !errors.As(err, &pe) {
				t.Fatalf("hook error %v does not wrap ErrPanic", err)
			}
			for _, want := range []string{tc.want, "layered tier 0 (front) promote"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("hook error %q lacks %q", err, want)
				}
			}
			if st := l.Stats(); st.Tiers[0].Errors != 1 {
				t.Errorf("front tier errors = %d, want 1", st.Tiers[0].Errors)
			}
		})
	}
}
