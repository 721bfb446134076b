package memcached

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
	"github.com/tiercache/tiercache/internal/testlog"
	"github.com/tiercache/tiercache/tiercachetest"
)

// TestFlappingServerBacksOff drives the ejection rules directly (no I/O):
// each ejection soon after a rejoin doubles the retry delay up to
// MaxRetryAfter, one after a long healthy spell starts again at
// RetryAfter; ejections and rejoins are counted and logged.
func TestFlappingServerBacksOff(t *testing.T) {
	var logs testlog.Buffer
	cfg, err := Config{Servers: []string{"127.0.0.1:1"}, RetryAfter: 10 * time.Second,
		Logger: logs.Logger()}.withDefaults()
	mustDo(t, err)
	c, err := newCluster(&cfg)
	mustDo(t, err)
	defer c.close()
	s := c.top.Load().servers[0]
	fail := errors.New("connection refused")
	eject := func() time.Duration {
		t.Helper()
		for range DefaultEjectAfter {
			c.failed(s, fail)
		}
		if !s.ejected.Load() {
			t.Fatalf("not ejected after %d failures", DefaultEjectAfter)
		}
		s.hmu.Lock()
		defer s.hmu.Unlock()
		return s.delay
	}
	c.failed(s, fail)
	if s.ejected.Load() {
		t.Fatal("ejected after one failure, EjectAfter is 2")
	}
	c.succeeded(s, false) // resets the count
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, MaxRetryAfter, MaxRetryAfter}
	for i, w := range want {
		if got := eject(); got != w {
			t.Fatalf("ejection %d: retry delay %v, want %v", i+1, got, w)
		}
		c.rejoin(s, "test")
	}
	s.hmu.Lock()
	s.rejoined = time.Now().Add(-2 * MaxRetryAfter) // a long healthy spell
	s.hmu.Unlock()
	if got := eject(); got != 10*time.Second {
		t.Fatalf("ejection after a healthy spell: delay %v, want RetryAfter", got)
	}
	if e, r := s.ejections.Load(), s.rejoins.Load(); e != 6 || r != 5 {
		t.Errorf("%d ejections and %d rejoins counted, want 6 and 5", e, r)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"memcached: server ejected\" server=127.0.0.1:1", "level=INFO msg=\"memcached: server rejoined\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestProbeFailureLogged checks that a dead server is probed at
// RetryAfter, that failed probes are counted and logged, and that it stays
// ejected.
func TestProbeFailureLogged(t *testing.T) {
	var logs testlog.Buffer
	m := newManagerOn(t, "127.0.0.1:1", func(c *Config) {
		c.RetryAfter, c.Logger = 50*time.Millisecond, logs.Logger()
	})
	for range 2 {
		_, _, _ = m.Get(bg, "k")
	}
	waitFor(t, "a failed probe", func() bool { return m.Stats().Servers[0].ProbeErrors > 0 })
	st := m.Stats().Servers[0]
	if st.State != ServerEjected || st.Ejections != 1 || st.Probes == 0 {
		t.Fatalf("stats %+v; want ejected once, probed", st)
	}
	if out := logs.String(); !strings.Contains(out, "memcached: probe failed") {
		t.Fatalf("no probe failure logged:\n%s", out)
	}
}

// TestSelector checks Config.Selector: placement by the selector,
// SetServers forwarded to it, per-server stats, and the invalid
// combinations.
func TestSelector(t *testing.T) {
	servers := memcachedtest.StartN(t, 2, memcachedtest.Options{})
	addrs := memcachedtest.Addrs(servers)
	ss := new(memcache.ServerList)
	mustDo(t, ss.SetServers(addrs...))
	m, err := New(Config{Selector: ss, Timeout: testTimeout})
	mustDo(t, err)
	defer m.Close()
	want := tiercachetest.Response("sel", 100)
	for _, k := range testKeys(50) {
		tiercachetest.MustPut(t, m, k, want, ttl(time.Hour))
		tiercachetest.MustGet(t, m, k, want)
		addr, _ := ss.PickServer(m.Store().ItemKey(k))
		if _, err := raw(addr.String()).Get(m.Store().ItemKey(k)); err != nil {
			t.Fatalf("key %s not on the server the selector picks (%s): %v", k, addr, err)
		}
	}
	st := m.Stats()
	if len(st.Servers) != 2 || st.Servers[0].Sets == 0 || st.Servers[1].Sets == 0 {
		t.Fatalf("Stats %+v; want both servers with writes", st.Servers)
	}
	mustDo(t, m.SetServers(addrs[1]))
	if st := m.Stats(); len(st.Servers) != 1 || st.Servers[0].Server != addrs[1] {
		t.Fatalf("Stats after SetServers %+v; want only %s", st.Servers, addrs[1])
	}
	tiercachetest.MustPut(t, m, "after", want, ttl(time.Hour))
	if _, err := raw(addrs[1]).Get(m.Store().ItemKey("after")); err != nil {
		t.Fatalf("write after SetServers not on %s: %v", addrs[1], err)
	}

	noSet, err := New(Config{Selector: fixedSelector{ss}})
	mustDo(t, err)
	defer noSet.Close()
	if err := noSet.SetServers(addrs...); !errors.Is(err, tiercache.ErrInvalid) {
		t.Errorf("SetServers on a selector without SetServers: %v, want ErrInvalid", err)
	}
}

// fixedSelector hides ServerList's SetServers method.
type fixedSelector struct{ memcache.ServerSelector }

func TestSetServersInvalid(t *testing.T) {
	m := newManagerOn(t, "127.0.0.1:1", nil)
	for _, list := range [][]string{nil, {"no-port"}, {"127.0.0.1:2 0"}, {"127.0.0.1:2", "127.0.0.1:2"}} {
		if err := m.SetServers(list...); !errors.Is(err, tiercache.ErrInvalid) {
			t.Errorf("SetServers(%q) = %v, want ErrInvalid", list, err)
		}
	}
	if st := m.Stats(); len(st.Servers) != 1 || st.Servers[0].Server != "127.0.0.1:1" {
		t.Fatalf("a refused SetServers changed the servers: %+v", st.Servers)
	}
	mustDo(t, m.Close())
	if err := m.SetServers("127.0.0.1:2"); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("SetServers after Close = %v, want ErrClosed", err)
	}
}

// panicHandler is a slog.Handler that panics on one message.
type panicHandler struct{ msg string }

func (h panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		panic("handler exploded")
	}
	return nil
}
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicHandler) WithGroup(string) slog.Handler      { return h }

// TestProbePanicReported makes the probe goroutine panic (its logger
// panics on "probe failed"): the panic is reported to OnError as an error
// wrapping tiercache.ErrPanic, and the server is still probed afterwards.
func TestProbePanicReported(t *testing.T) {
	var log errorLog
	m := newManagerOn(t, "127.0.0.1:1", func(c *Config) {
		c.RetryAfter, c.OnError = 20*time.Millisecond, log.add
		c.Logger = slog.New(panicHandler{"memcached: probe failed"})
	})
	for range 2 {
		_, _, _ = m.Get(bg, "k")
	}
	waitFor(t, "two probes", func() bool { return m.Stats().Servers[0].Probes >= 2 })
	keys, errs := log.snapshot()
	if len(errs) == 0 || keys[0] != "" || !errors.Is(errs[0], tiercache.ErrPanic) {
		t.Fatalf("OnError got %q %v; want an ErrPanic with an empty key", keys, errs)
	}
}

// TestFailureClassification pins which outcomes count against a server:
// unreachable or silent servers do, answers (a miss included) do not.
func TestFailureClassification(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name           string
		err            error
		answer, failed bool
	}{
		{"success", nil, true, false},
		{"miss", memcache.ErrCacheMiss, true, false},
		{"not stored", memcache.ErrNotStored, true, false},
		{"cas conflict", memcache.ErrCASConflict, true, false},
		{"refused", refused, false, true},
		{"timeout", timeout, false, true},
		{"connect timeout", &memcache.ConnectTimeoutError{}, false, true},
		{"EOF", io.EOF, false, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), false, true},
		{"server error line", errors.New(`memcache: unexpected response line from "set": "SERVER_ERROR out of memory"`), false, false},
	}
	for _, tc := range tests {
		if a, f := answered(tc.err), serverDown(tc.err); a != tc.answer || f != tc.failed {
			t.Errorf("%s: answered %v, serverDown %v; want %v, %v", tc.name, a, f, tc.answer, tc.failed)
		}
	}
}
