package workload

import (
	"context"
	"errors"
	"testing"

	"github.com/tiercache/tiercache"
)

// panicManager panics in every call.
type panicManager struct{}

func (panicManager) Get(context.Context, string) (*tiercache.Response, *tiercache.Policy, error) {
	panic("tier is broken")
}

func (panicManager) Put(context.Context, string, *tiercache.Response, *tiercache.Policy) (*tiercache.Response, error) {
	panic("tier is broken")
}

func (panicManager) Delete(context.Context, string) error { panic("tier is broken") }

// TestReplaySurvivesPanics: a tier that panics ends its clients with an
// error wrapping ErrPanic instead of taking the bench down.
func TestReplaySurvivesPanics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Keys, cfg.Ops, cfg.Warmup, cfg.MaxSize, cfg.MedianSize = 100, 100, 0, 4096, 1024
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := Replay(context.Background(), panicManager{}, w, w.Trace, ReplayOptions{Workers: 2})
	if !errors.Is(res.Err, tiercache.ErrPanic) || res.Errors != 2 {
		t.Fatalf("Err = %v, Errors = %d; want ErrPanic from each of 2 clients", res.Err, res.Errors)
	}
}
