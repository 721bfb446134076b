package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/internal/redistest"
	"github.com/tiercache/tiercache/tiercachetest"
)

// The cross-process test: process A (the test) and process B (this test
// binary re-executed, childMain) each run `lru > redis` with a Bus on one
// server. A puts versions 1, 2, ... of one key; B reads the key in a loop
// and checks, on every Get, the guarantee of the bus: once B has handled
// the message of version i, no Get returns a version below i, and no Get
// ever returns an error. B reports on stdout:
//
//	ready                       its subscription is up
//	seen <i> <handled> <served> it first served version i (its front holds
//	                            it now); Unix ns when it had handled the
//	                            message of i and when it first served i
//
// The two processes run on one host, so their wall clocks agree.
//
//	down / up                   its subscription was lost / is back
//	violation <text>            a broken guarantee (the test fails)
const (
	childEnv        = "TIERCACHE_REDIS_COHERENCE_CHILD"
	childAddrEnv    = "TIERCACHE_REDIS_COHERENCE_ADDR"
	coherenceKey    = "GET https://example.com/coherence"
	coherenceAbsent = "GET https://example.com/never-stored"
	coherenceRounds = 300
)

func TestCrossProcessCoherence(t *testing.T) {
	srv := redistest.Start(t)
	child := startChild(t, srv.Addr)
	child.expect(t, "ready")

	a := newCoherenceStack(t, srv.Addr)
	waitFor(t, "A's subscription", func() bool { return a.l.BusStats().Up == 1 })

	var handled, served []time.Duration
	put := func(i int) {
		t.Helper()
		tiercachetest.MustPut(t, a.l, coherenceKey, versionResponse(i), ttl(time.Hour))
		returned := time.Now()
		f := child.expect(t, "seen "+strconv.Itoa(i))
		handled = append(handled, time.Duration(atoi(t, f[2])-a.bus.lastPublish.Load()))
		served = append(served, time.Duration(atoi(t, f[3])-returned.UnixNano()))
	}
	for i := 1; i <= coherenceRounds; i++ {
		put(i)
	}
	t.Logf("bus latency, A calls PUBLISH -> B has deleted the key from its front: %s", percentiles(handled))
	t.Logf("A's Put returned -> B's Get returned the new value: %s", percentiles(served))

	// Kill the server: neither process sees a Get error, both buses
	// notice, and both reconnect once it is back.
	srv.Kill()
	child.expect(t, "down")
	for range 100 {
		tiercachetest.MustGet(t, a.l, coherenceKey, versionResponse(coherenceRounds)) // a front hit
		tiercachetest.MustGet(t, a.l, coherenceAbsent, nil)                           // fails open
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	child.expect(t, "up")
	waitFor(t, "A's subscription back", func() bool { st := a.l.BusStats(); return st.Up == 1 && st.Recoveries == 1 })
	// go-redis's pool may have stopped dialing after PoolSize failed dials:
	// it probes once a second. The same Manager works once it has.
	waitFor(t, "A's client to reach the server", func() bool {
		_, err := a.shared.Put(bg, "probe", versionResponse(0), ttl(time.Hour))
		return err == nil
	})
	put(coherenceRounds + 1)
	child.stop(t)
	if !a.hooked(tiercache.ErrBusDown) || !a.hooked(ErrUnavailable) {
		t.Error("A's error hook was not told of the lost subscription and the failed reads")
	}
}

// coherenceStack is one process's `lru > redis` with a bus.
type coherenceStack struct {
	l      *tiercache.Layered
	front  *lru.Manager
	shared *Manager
	bus    *timingBus
	mu     sync.Mutex
	errs   []error
}

// timingBus records when the last Publish was called.
type timingBus struct {
	*Bus
	lastPublish atomic.Int64 // Unix ns
}

func (b *timingBus) Publish(ctx context.Context, m tiercache.BusMessage) error {
	b.lastPublish.Store(time.Now().UnixNano())
	return b.Bus.Publish(ctx, m)
}

func newCoherenceStack(tb testing.TB, addr string) *coherenceStack {
	s := &coherenceStack{}
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1})
	shared, err := New(Config{Client: client, Prefix: "coherence:", Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	bus, err := NewBus(BusConfig{Client: client, Channel: "coherence:bus", HealthCheck: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	if s.front, err = lru.New(lru.Config{}); err != nil {
		tb.Fatal(err)
	}
	s.shared, s.bus = shared, &timingBus{Bus: bus}
	s.l = tiercache.NewLayered([]tiercache.Manager{s.front, shared}, tiercache.WithBus(s.bus),
		tiercache.WithErrorHook(func(_ int, _, _ string, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.errs = append(s.errs, err)
		}))
	tb.Cleanup(func() {
		_ = s.l.Close()
		_ = bus.Close()
		_ = shared.Close()
		_ = s.front.Close()
		_ = client.Close()
	})
	return s
}

// hooked reports whether the error hook received an error wrapping target.
func (s *coherenceStack) hooked(target error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func versionResponse(i int) *tiercache.Response {
	return tiercachetest.Response("v"+strconv.Itoa(i), 64)
}

// version returns the version of a response from versionResponse, 0 for a miss.
func version(r *tiercache.Response) int {
	if r == nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimPrefix(r.Header.Get("X-Seed"), "v"))
	return v
}

// countingBus counts the handled messages of the key, after the Layered's
// own handler returned, and records when.
type countingBus struct {
	*Bus
	handled atomic.Int64
	mu      sync.Mutex
	at      map[int64]int64 // message number -> Unix ns when handled
}

func (b *countingBus) Subscribe(s tiercache.BusSubscriber) (io.Closer, error) {
	return b.Bus.Subscribe(countingSub{s, b})
}

type countingSub struct {
	tiercache.BusSubscriber
	b *countingBus
}

func (c countingSub) Receive(m tiercache.BusMessage) {
	c.BusSubscriber.Receive(m)
	if m.Kind == tiercache.BusKindKey && m.Key == coherenceKey {
		now := time.Now().UnixNano()
		c.b.mu.Lock()
		c.b.at[c.b.handled.Add(1)] = now
		c.b.mu.Unlock()
	}
}

// childMain is process B. It returns the exit code.
func childMain() int {
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	client := goredis.NewClient(&goredis.Options{Addr: os.Getenv(childAddrEnv), ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1})
	defer client.Close()
	shared, err := New(Config{Client: client, Prefix: "coherence:", Timeout: time.Second})
	if err != nil {
		out.line("violation New: %v", err)
		return 1
	}
	raw, err := NewBus(BusConfig{Client: client, Channel: "coherence:bus", HealthCheck: 200 * time.Millisecond})
	if err != nil {
		out.line("violation NewBus: %v", err)
		return 1
	}
	bus := &countingBus{Bus: raw, at: map[int64]int64{}}
	front, _ := lru.New(lru.Config{})
	l := tiercache.NewLayered([]tiercache.Manager{front, shared}, tiercache.WithBus(bus))
	defer func() { _ = l.Close(); _ = raw.Close(); _ = front.Close() }()
	for l.BusStats().Up == 0 {
		time.Sleep(time.Millisecond)
	}
	out.line("ready")
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); childRead(l, bus, out, &stop) }()
	go func() { defer wg.Done(); childWatchBus(l, out, &stop) }()
	_, _ = io.Copy(io.Discard, os.Stdin) // until A closes stdin
	stop.Store(true)
	wg.Wait()
	return 0
}

// childRead reads the key in a loop and checks the guarantee on each Get.
func childRead(l *tiercache.Layered, bus *countingBus, out *lineWriter, stop *atomic.Bool) {
	ctx := context.Background()
	last := 0
	for n := 0; !stop.Load(); n++ {
		handled := bus.handled.Load() // before the Get: message i handled => version >= i
		resp, _, err := l.Get(ctx, coherenceKey)
		if err != nil {
			out.line("violation Get error: %v", err)
		}
		v := version(resp)
		switch {
		case resp != nil && int64(v) < handled:
			out.line("violation served version %d after handling the message of version %d", v, handled)
		case resp != nil && v < last:
			out.line("violation went back from version %d to %d", last, v)
		case v > last:
			last = v
			bus.mu.Lock()
			at := bus.at[int64(v)]
			bus.mu.Unlock()
			out.line("seen %d %d %d", v, at, time.Now().UnixNano())
		}
		if n%16 == 0 {
			if _, _, err := l.Get(ctx, coherenceAbsent); err != nil {
				out.line("violation Get error for an absent key: %v", err)
			}
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// childWatchBus reports losses and recoveries of the subscription.
func childWatchBus(l *tiercache.Layered, out *lineWriter, stop *atomic.Bool) {
	var losses, recoveries uint64
	for !stop.Load() {
		st := l.BusStats()
		if st.Losses > losses {
			losses = st.Losses
			out.line("down")
		}
		if st.Recoveries > recoveries {
			recoveries = st.Recoveries
			out.line("up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lineWriter writes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (w *lineWriter) line(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.w, format+"\n", args...)
	_ = w.w.Flush()
}

// child is process B, seen from A.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *strings.Builder
}

func startChild(t *testing.T, addr string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childAddrEnv+"="+addr)
	cmd.SysProcAttr = childProcAttr()
	c := &child{cmd: cmd, lines: make(chan string, 1024), stderr: &strings.Builder{}}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return c
}

// expect reads lines until one starts with prefix and returns its fields.
// A violation line, or B's exit, fails the test.
func (c *child) expect(t *testing.T, prefix string) []string {
	t.Helper()
	timeout := time.After(hangGuard)
	for {
		select {
		case line, ok := <-c.lines:
			switch {
			case !ok:
				t.Fatalf("process B exited while A waited for %q; stderr: %s", prefix, c.stderr)
			case strings.HasPrefix(line, "violation"):
				t.Fatalf("process B: %s", line)
			case line == prefix || strings.HasPrefix(line, prefix+" "):
				return strings.Fields(line)
			}
		case <-timeout:
			t.Fatalf("process B did not report %q within %v", prefix, hangGuard)
		}
	}
}

// stop closes B's stdin, waits for it to exit and fails on any violation
// it reported meanwhile.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	for line := range c.lines {
		if strings.HasPrefix(line, "violation") {
			t.Errorf("process B: %s", line)
		}
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("process B: %v; stderr: %s", err, c.stderr)
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q from process B", s)
	}
	return n
}

// percentiles formats the p50, p99 and max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("p50 %v, p99 %v, max %v (%d samples)", s[len(s)/2], s[len(s)*99/100], s[len(s)-1], len(s))
}
