package redistest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	if reply, err := Command(s.Addr, "SET", "k", "v"); err != nil || reply != "OK" {
		t.Fatalf("SET = %q, %v", reply, err)
	}
	s.Kill()
	if _, err := Command(s.Addr, "PING"); err == nil {
		t.Fatalf("server on %s still answers after Kill", s.Addr)
	}
	s.Kill() // idempotent
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if reply, err := Command(s.Addr, "GET", "k"); err != nil || reply != "" {
		t.Fatalf("GET after Restart = %q, %v; want an empty server", reply, err)
	}
}

func TestPauseResume(t *testing.T) {
	s := Start(t)
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	if _, err := Command(s.Addr, "PING"); err == nil {
		t.Fatal("a paused server answered PING")
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // a hang guard, not a timing assertion
	for {
		if reply, err := Command(s.Addr, "PING"); err == nil && reply == "PONG" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("resumed server does not answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3)
	info, err := Command(c.Nodes[0].Addr, "CLUSTER", "INFO")
	if err != nil || !strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_assigned:16384") {
		t.Fatalf("CLUSTER INFO = %q, %v", info, err)
	}
}

func TestStartFailingServer(t *testing.T) {
	if _, err := Binary(); err != nil {
		t.Skipf("redistest: %v", err)
	}
	if s, err := StartProcess(Options{Args: []string{"--no-such-option", "x"}}); err == nil {
		s.Close()
		t.Fatal("StartProcess returned a server for a redis-server that cannot start")
	} else if !strings.Contains(err.Error(), "exited before answering PING") {
		t.Fatalf("error %q does not say the server exited", err)
	}
}

// fakeTB records Skip and Fatal instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...) }

func TestMissingBinary(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantSkip bool
	}{{"", true}, {"false", true}, {"true", false}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("REDIS_BIN", "/nonexistent/redis-server")
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			if s := Start(f); s != nil {
				t.Fatal("Start returned a server without a binary")
			}
			if tc.wantSkip && (f.skipped == "" || f.failed != "") {
				t.Fatalf("want skip; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if !tc.wantSkip && (f.failed == "" || f.skipped != "") {
				t.Fatalf("want fatal; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if msg := f.skipped + f.failed; !strings.Contains(msg, "REDIS_BIN") {
				t.Errorf("message %q does not name REDIS_BIN", msg)
			}
		})
	}
}
