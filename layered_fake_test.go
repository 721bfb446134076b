package tiercache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// tierFake is an in-memory Manager that counts calls, logs writes, injects
// errors and, through its hooks, lets a test hold a call at a chosen point.
type tierFake struct {
	id    int
	log   *tierOpLog
	onGet func(key string) // runs after the value is read, before it returns
	onPut func(key string) // runs before the value is stored

	mu                  sync.Mutex
	m                   map[string]tierFakeEntry
	getErr, putErr, del error

	gets, puts, deletes atomic.Int64
}

type tierFakeEntry struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
}

func newTierFake(id int, log *tierOpLog) *tierFake {
	return &tierFake{id: id, log: log, m: map[string]tierFakeEntry{}}
}

func (f *tierFake) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	f.gets.Add(1)
	f.mu.Lock()
	e, ok := f.m[key]
	err := f.getErr
	f.mu.Unlock()
	if f.onGet != nil {
		f.onGet(key)
	}
	if err != nil || !ok || (e.pol != nil && e.pol.KeepFor(time.Now()) <= 0) {
		return nil, nil, err // an entry past its retention is a miss
	}
	return e.resp, e.pol, nil
}

func (f *tierFake) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	f.puts.Add(1)
	if f.onPut != nil {
		f.onPut(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.add("put", f.id, key)
	if f.putErr != nil {
		return nil, f.putErr
	}
	if pol.KeepFor(time.Now()) <= 0 {
		delete(f.m, key)
		return resp, nil
	}
	f.m[key] = tierFakeEntry{resp, pol}
	return resp, nil
}

func (f *tierFake) Delete(_ context.Context, key string) error {
	f.deletes.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.add("delete", f.id, key)
	if f.del != nil {
		return f.del
	}
	delete(f.m, key)
	return nil
}

// set stores an entry directly, bypassing the Layered.
func (f *tierFake) set(key string, resp *tiercache.Response, pol *tiercache.Policy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[key] = tierFakeEntry{resp, pol}
}

// entry returns what the tier holds under key (zero when absent).
func (f *tierFake) entry(key string) tierFakeEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[key]
}

func (f *tierFake) setErrors(get, put, del error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getErr, f.putErr, f.del = get, put, del
}

// tierOpLog records tier writes in order across tiers.
type tierOpLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *tierOpLog) add(op string, tier int, key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, fmt.Sprintf("%s %d %s", op, tier, key))
}

func (l *tierOpLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.ops, ", ")
}

// holdGate holds the first call that reaches wait until release is closed.
type holdGate struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func newHoldGate() *holdGate {
	return &holdGate{entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *holdGate) wait(string) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.release
	}
}

// tierHookCalls records ErrorHook calls.
type tierHookCalls struct {
	mu    sync.Mutex
	calls []string
}

func (h *tierHookCalls) hook(tier int, op, key string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprintf("%d %s %s: %v", tier, op, key, err))
}

func (h *tierHookCalls) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.calls, "; ")
}

// newFakeStack returns a Layered over n fresh fakes; it is closed at cleanup.
func newFakeStack(t testing.TB, n int, opts ...tiercache.LayeredOption) (*tiercache.Layered, []*tierFake, *tierOpLog) {
	t.Helper()
	log := &tierOpLog{}
	fakes := make([]*tierFake, n)
	tiers := make([]tiercache.Manager, n)
	for i := range fakes {
		fakes[i] = newTierFake(i, log)
		tiers[i] = fakes[i]
	}
	l := tiercache.NewLayered(tiers, opts...)
	t.Cleanup(func() { _ = l.Close() })
	return l, fakes, log
}

var (
	lctx        = context.Background()
	errTierBoom = errors.New("boom")
)

func hourPolicy() *tiercache.Policy { return tiercache.NewTTLPolicy(time.Hour) }
