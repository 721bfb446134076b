package redis

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/redistest"
	"github.com/tiercache/tiercache/internal/testlog"
)

// recSub records what a subscription delivers.
type recSub struct {
	panicOn string // Receive panics for a message with this key

	mu    sync.Mutex
	msgs  []tiercache.BusMessage
	ups   int
	downs []error
}

func (r *recSub) Receive(m tiercache.BusMessage) {
	if m.Key == r.panicOn && r.panicOn != "" {
		panic("subscriber exploded")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m.Data = append([]byte(nil), m.Data...)
	r.msgs = append(r.msgs, m)
}

func (r *recSub) Up() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ups++
}

func (r *recSub) Down(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.downs = append(r.downs, err)
}

func (r *recSub) state() (msgs []tiercache.BusMessage, ups int, downs []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tiercache.BusMessage(nil), r.msgs...), r.ups, append([]error(nil), r.downs...)
}

// subscribe subscribes r to b, closed at the end of the test, and waits
// until it is up n times.
func subscribe(t *testing.T, b *Bus, r *recSub) {
	t.Helper()
	sub, err := b.Subscribe(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	waitUps(t, r, 1)
}

func waitUps(t *testing.T, r *recSub, n int) {
	t.Helper()
	waitFor(t, "the subscription to be up", func() bool { _, ups, _ := r.state(); return ups >= n })
}

func waitMsgs(t *testing.T, r *recSub, n int) []tiercache.BusMessage {
	t.Helper()
	waitFor(t, "messages", func() bool { m, _, _ := r.state(); return len(m) >= n })
	m, _, _ := r.state()
	return m
}

// errLog collects OnError reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errLog) has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func newBus(t *testing.T, cfg BusConfig) *Bus {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = testTimeout
	}
	b, err := NewBus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestBusDeliversToEverySubscription(t *testing.T) {
	srv := redistest.Start(t)
	pub := newBus(t, BusConfig{Client: newClient(t, srv.Addr, true), Channel: "c"})
	other := newBus(t, BusConfig{Client: newClient(t, srv.Addr, false), Channel: "c"})
	subs := []*recSub{{}, {}, {}}
	subscribe(t, pub, subs[0])
	subscribe(t, pub, subs[1])
	subscribe(t, other, subs[2])
	sent := []tiercache.BusMessage{
		{Origin: "o1", Kind: tiercache.BusKindKey, Key: "GET https://example.com/\x00\n"},
		{Origin: "o2", Kind: "tag", Key: "products", Data: []byte{0, 1, 2, 0xff}},
		{Kind: tiercache.BusKindKey, Key: strings.Repeat("k", 5000)},
	}
	for _, m := range sent {
		if err := pub.Publish(bg, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range subs {
		got := waitMsgs(t, r, len(sent))
		for j := range sent {
			if got[j].Origin != sent[j].Origin || got[j].Kind != sent[j].Kind || got[j].Key != sent[j].Key || string(got[j].Data) != string(sent[j].Data) {
				t.Fatalf("subscription %d message %d = %+v, want %+v", i, j, got[j], sent[j])
			}
		}
	}
	if st := pub.Stats(); st.Publishes != 3 || st.Received != 6 || st.Subscriptions != 2 || st.Up != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestBusOtherChannelsAreNotDelivered(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	a, b := newBus(t, BusConfig{Client: client, Channel: "a"}), newBus(t, BusConfig{Client: client, Channel: "b"})
	ra, rb := &recSub{}, &recSub{}
	subscribe(t, a, ra)
	subscribe(t, b, rb)
	_ = b.Publish(bg, tiercache.BusMessage{Kind: tiercache.BusKindKey, Key: "for b"})
	_ = a.Publish(bg, tiercache.BusMessage{Kind: tiercache.BusKindKey, Key: "for a"})
	if m := waitMsgs(t, ra, 1); m[0].Key != "for a" {
		t.Fatalf("channel a got %q", m[0].Key)
	}
	if m := waitMsgs(t, rb, 1); m[0].Key != "for b" || len(m) != 1 {
		t.Fatalf("channel b got %+v", m)
	}
}

// TestBusReconnects: a killed server is a Down (with OnError and a log
// line), a restarted one an Up, and messages flow again.
func TestBusReconnects(t *testing.T) {
	srv := redistest.Start(t)
	logs, errs := &testlog.Buffer{}, &errLog{}
	b := newBus(t, BusConfig{Client: newClient(t, srv.Addr, true), Logger: logs.Logger(), OnError: errs.add})
	r := &recSub{}
	subscribe(t, b, r)
	srv.Kill()
	waitFor(t, "Down", func() bool { _, _, downs := r.state(); return len(downs) == 1 })
	if err := within(t, "publish", func() error { return b.Publish(bg, tiercache.BusMessage{Key: "x"}) }); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Publish on a dead server = %v, want ErrUnavailable", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUps(t, r, 2)
	if err := b.Publish(bg, tiercache.BusMessage{Kind: tiercache.BusKindKey, Key: "after"}); err != nil {
		t.Fatal(err)
	}
	if m := waitMsgs(t, r, 1); m[0].Key != "after" {
		t.Fatalf("got %+v after the restart", m)
	}
	_, _, downs := r.state()
	if len(downs) != 1 {
		t.Fatalf("Down called %d times for one outage", len(downs))
	}
	if st := b.Stats(); st.Losses != 1 || st.Recoveries != 1 || st.Up != 1 {
		t.Fatalf("Stats = %+v, want 1 loss, 1 recovery, up", st)
	}
	if len(errs.errs) == 0 {
		t.Error("OnError was not told of the loss")
	}
	for _, msg := range []string{"bus subscription lost", "bus subscription restored"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("log %q lacks %q", logs.String(), msg)
		}
	}
}

// TestBusNoticesHungServer: a server that stops answering (SIGSTOP, the
// connection stays open) is noticed by the PING health check.
func TestBusNoticesHungServer(t *testing.T) {
	srv := redistest.Start(t)
	b := newBus(t, BusConfig{Client: newClient(t, srv.Addr, true), HealthCheck: 100 * time.Millisecond})
	r := &recSub{}
	subscribe(t, b, r)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Down", func() bool { _, _, downs := r.state(); return len(downs) == 1 })
	if _, _, downs := r.state(); !errors.Is(downs[0], ErrTimeout) {
		t.Errorf("Down(%v), want ErrTimeout", downs[0])
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitUps(t, r, 2)
}

func TestBusSubscriberPanicIsReported(t *testing.T) {
	srv := redistest.Start(t)
	errs := &errLog{}
	b := newBus(t, BusConfig{Client: newClient(t, srv.Addr, true), OnError: errs.add})
	r := &recSub{panicOn: "boom"}
	subscribe(t, b, r)
	_ = b.Publish(bg, tiercache.BusMessage{Key: "boom"})
	_ = b.Publish(bg, tiercache.BusMessage{Key: "next"})
	if m := waitMsgs(t, r, 1); m[0].Key != "next" {
		t.Fatalf("after a panic got %+v", m)
	}
	if !errs.has(tiercache.ErrPanic) {
		t.Fatal("the panic was not reported with ErrPanic")
	}
	if st := b.Stats(); st.Panics != 1 {
		t.Fatalf("Stats().Panics = %d", st.Panics)
	}
}

func TestBusCorruptMessageIsSkipped(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	errs := &errLog{}
	b := newBus(t, BusConfig{Client: client, Channel: "c", OnError: errs.add})
	r := &recSub{}
	subscribe(t, b, r)
	_ = client.Publish(bg, "c", "\x09garbage").Err() // another version
	_ = client.Publish(bg, "c", "\x01\x05ab").Err()  // truncated
	_ = b.Publish(bg, tiercache.BusMessage{Key: "ok"})
	if m := waitMsgs(t, r, 1); m[0].Key != "ok" || len(m) != 1 {
		t.Fatalf("got %+v", m)
	}
	if st := b.Stats(); st.Corrupt != 2 || !errs.has(tiercache.ErrVersion) || !errs.has(tiercache.ErrCorrupt) {
		t.Fatalf("Stats = %+v, errors %v", st, errs.errs)
	}
}

func TestBusClose(t *testing.T) {
	srv := redistest.Start(t)
	b, err := NewBus(BusConfig{Client: newClient(t, srv.Addr, true)})
	if err != nil {
		t.Fatal(err)
	}
	r := &recSub{}
	sub, err := b.Subscribe(r)
	if err != nil {
		t.Fatal(err)
	}
	waitUps(t, r, 1)
	within(t, "subscription Close", sub.Close)
	within(t, "subscription Close again", sub.Close)
	_ = within(t, "Bus Close", b.Close)
	if err := b.Publish(bg, tiercache.BusMessage{}); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Publish after Close = %v", err)
	}
	if _, err := b.Subscribe(r); !errors.Is(err, tiercache.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
	if st := b.Stats(); st.Subscriptions != 0 {
		t.Errorf("Stats().Subscriptions = %d after Close", st.Subscriptions)
	}
}

func TestBusCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	b := newBus(t, BusConfig{Client: newClusterClient(t, cl), Channel: "cluster-bus"})
	subs := []*recSub{{}, {}}
	for _, r := range subs {
		subscribe(t, b, r)
	}
	for i := range 10 {
		if err := b.Publish(bg, tiercache.BusMessage{Kind: tiercache.BusKindKey, Key: strings.Repeat("k", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range subs { // each PUBLISH may enter the cluster at another node: no order
		keys := map[string]bool{}
		for _, m := range waitMsgs(t, r, 10) {
			keys[m.Key] = true
		}
		if len(keys) != 10 {
			t.Fatalf("got %d distinct keys of 10: %v", len(keys), keys)
		}
	}
}

func TestBusWire(t *testing.T) {
	msgs := []tiercache.BusMessage{
		{},
		{Origin: "0123456789abcdef0123456789abcdef", Kind: tiercache.BusKindKey, Key: "GET /x"},
		{Origin: strings.Repeat("o", maxOriginLen), Kind: "tag", Key: strings.Repeat("k", 300), Data: []byte("gen 42")},
	}
	for _, m := range msgs {
		p, err := appendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseMessage(string(p))
		if err != nil || got.Origin != m.Origin || got.Kind != m.Kind || got.Key != m.Key || string(got.Data) != string(m.Data) {
			t.Fatalf("round trip of %+v = %+v, %v", m, got, err)
		}
		for n := range len(p) { // every truncation fails cleanly or is a shorter Data
			if got, err := parseMessage(string(p[:n])); err == nil && (got.Key != m.Key || got.Kind != m.Kind) {
				t.Fatalf("truncation to %d bytes parsed as %+v", n, got)
			}
		}
	}
	if _, err := appendMessage(nil, tiercache.BusMessage{Origin: strings.Repeat("o", maxOriginLen+1)}); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("long origin: %v", err)
	}
	if _, err := parseMessage("\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"); !errors.Is(err, tiercache.ErrCorrupt) {
		t.Fatalf("huge length: %v", err)
	}
}

func FuzzParseMessage(f *testing.F) {
	p, _ := appendMessage(nil, tiercache.BusMessage{Origin: "o", Kind: "key", Key: "k", Data: []byte("d")})
	f.Add(string(p))
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMessage(s)
		if err != nil {
			return
		}
		q, err := appendMessage(nil, m)
		if err != nil {
			t.Fatalf("parse(%q) = %+v does not re-encode: %v", s, m, err)
		}
		if m2, err := parseMessage(string(q)); err != nil || m2.Origin != m.Origin || m2.Kind != m.Kind ||
			m2.Key != m.Key || string(m2.Data) != string(m.Data) {
			t.Fatalf("parse(%q) = %+v, re-parsed as %+v, %v", s, m, m2, err)
		}
	})
}
