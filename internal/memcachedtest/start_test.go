package memcachedtest

import (
	"strings"
	"testing"
	"time"
)

// TestStartFailingServer starts a memcached that exits at once (a bad
// argument, as when its port was taken). StartWith must report the failure
// with the server's output instead of hanging on the exit it already
// consumed.
func TestStartFailingServer(t *testing.T) {
	if _, err := Binary(); err != nil {
		t.Skipf("memcachedtest: %v", err)
	}
	f := &fakeTB{TB: t}
	done := make(chan *Server, 1)
	go func() { done <- StartWith(f, Options{Args: []string{"--no-such-option"}}) }()
	select {
	case s := <-done:
		if s != nil {
			t.Fatalf("StartWith returned a server for a memcached that cannot start")
		}
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("StartWith hangs when memcached exits before accepting connections")
	}
	if !strings.Contains(f.failed, "exited before accepting connections") {
		t.Fatalf("failure message %q does not say the server exited", f.failed)
	}
}
