package tiercache_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// fakeBus is an in-process tiercache.Bus: Publish queues the message to
// every subscription, each delivered by its own goroutine. A test can take
// a subscription down (it is told Down and misses messages until brought
// up) and make Publish fail.
type fakeBus struct {
	mu         sync.Mutex
	subs       []*fakeSub
	publishErr error
	published  []tiercache.BusMessage
}

type fakeSub struct {
	s    tiercache.BusSubscriber
	ch   chan fakeEvent
	done chan struct{}

	mu     sync.Mutex
	down   bool
	closed bool
}

// fakeEvent is a message, or a state change when msg is nil.
type fakeEvent struct {
	msg *tiercache.BusMessage
	up  bool
	err error
}

var errFakeBusDown = errors.New("fake bus: connection lost")

func (b *fakeBus) Publish(_ context.Context, m tiercache.BusMessage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.publishErr != nil {
		return b.publishErr
	}
	b.published = append(b.published, m)
	for _, s := range b.subs {
		s.send(fakeEvent{msg: &m})
	}
	return nil
}

func (b *fakeBus) Subscribe(s tiercache.BusSubscriber) (io.Closer, error) {
	fs := &fakeSub{s: s, ch: make(chan fakeEvent, 1024), done: make(chan struct{})}
	go fs.run()
	fs.ch <- fakeEvent{up: true}
	b.mu.Lock()
	b.subs = append(b.subs, fs)
	b.mu.Unlock()
	return fs, nil
}

// setDown takes every subscription down (true) or brings it back up.
func (b *fakeBus) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.mu.Lock()
		s.down = down
		if !s.closed {
			s.ch <- fakeEvent{up: !down, err: errFakeBusDown}
		}
		s.mu.Unlock()
	}
}

func (b *fakeBus) setPublishErr(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.publishErr = err
}

func (b *fakeBus) messages() []tiercache.BusMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]tiercache.BusMessage(nil), b.published...)
}

// send queues e unless the subscription is down or closed.
func (s *fakeSub) send(e fakeEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down && !s.closed {
		s.ch <- e
	}
}

func (s *fakeSub) run() {
	defer close(s.done)
	for e := range s.ch {
		switch {
		case e.msg != nil:
			s.s.Receive(*e.msg)
		case e.up:
			s.s.Up()
		default:
			s.s.Down(e.err)
		}
	}
}

func (s *fakeSub) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// waitFor polls cond until it holds; only a hang fails (not a timing
// assertion: the bound is far above any expected delay).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
