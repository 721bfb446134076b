package tier_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// errTier is the error a failing fake returns.
var errTier = errors.New("fake tier failure")

// fakeManager is an in-memory tiercache.Manager for tests: a map under a
// mutex that honours KeepFor, counts calls, and can fail, or block calls
// until released (honouring or ignoring their context).
type fakeManager struct {
	gets, puts, deletes atomic.Int64

	mu        sync.Mutex
	data      map[string]fakeEntry
	errs      map[string]error         // op -> error it returns
	gates     map[string]chan struct{} // op ("get", "put", "delete") -> gate
	ignoreCtx bool
}

type fakeEntry struct {
	resp    *tiercache.Response
	pol     *tiercache.Policy
	expires time.Time
}

func newFake() *fakeManager {
	return &fakeManager{data: map[string]fakeEntry{}, gates: map[string]chan struct{}{}, errs: map[string]error{}}
}

// setErr makes later calls of ops (all when none are given) return err;
// nil makes them succeed again.
func (f *fakeManager) setErr(err error, ops ...string) {
	if len(ops) == 0 {
		ops = []string{"get", "put", "delete"}
	}
	f.mu.Lock()
	for _, op := range ops {
		f.errs[op] = err
	}
	f.mu.Unlock()
}

// block makes the given ops wait until the returned release is called (at
// the latest at the end of the test). With ignoreCtx they also ignore their
// context while waiting.
func (f *fakeManager) block(t *testing.T, ignoreCtx bool, ops ...string) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	f.mu.Lock()
	f.ignoreCtx = ignoreCtx
	for _, op := range ops {
		f.gates[op] = gate
	}
	f.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			f.mu.Lock()
			clear(f.gates)
			f.mu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(release)
	return release
}

// enter waits at op's gate, if any, and returns the injected error.
func (f *fakeManager) enter(ctx context.Context, op string) error {
	f.mu.Lock()
	gate, ignore := f.gates[op], f.ignoreCtx
	f.mu.Unlock()
	if gate != nil && ignore {
		<-gate
	} else if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !ignore && ctx.Err() != nil {
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[op]
}

func (f *fakeManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	f.gets.Add(1)
	if err := f.enter(ctx, "get"); err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.data[key]
	if !ok || !time.Now().Before(e.expires) {
		return nil, nil, nil
	}
	return e.resp, e.pol, nil
}

func (f *fakeManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	f.puts.Add(1)
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if err := f.enter(ctx, "put"); err != nil {
		return nil, err
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if keep := pol.KeepFor(now); keep > 0 {
		f.data[key] = fakeEntry{resp, pol, now.Add(keep)}
	} else {
		delete(f.data, key)
	}
	return resp, nil
}

func (f *fakeManager) Delete(ctx context.Context, key string) error {
	f.deletes.Add(1)
	if err := f.enter(ctx, "delete"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.data, key)
	return nil
}

// keys returns the stored keys, sorted.
func (f *fakeManager) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := make([]string, 0, len(f.data))
	for k := range f.data {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// calls returns the number of calls of any method.
func (f *fakeManager) calls() int64 { return f.gets.Load() + f.puts.Load() + f.deletes.Load() }

// fresh returns a policy fresh for an hour.
func fresh() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }

// resp returns a small test response.
func resp(seed string) *tiercache.Response { return tiercachetest.Response(seed, 16) }

// waitFor polls cond until it holds; it fails the test after a generous
// hang guard. It asserts nothing about elapsed time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// returnsWithin runs fn and fails the test if it hangs (5 s guard).
func returnsWithin(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hangs", what)
	}
}
