package memcachedtest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// version sends "version" to addr and returns the reply line.
func version(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "version\r\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	if line, err := version(s.Addr); err != nil || !strings.HasPrefix(line, "VERSION ") {
		t.Fatalf("version on %s = %q, %v", s.Addr, line, err)
	}
	s.Kill()
	if _, err := version(s.Addr); err == nil {
		t.Fatalf("server on %s still answers after Kill", s.Addr)
	}
	s.Kill() // idempotent
	s.Restart()
	if line, err := version(s.Addr); err != nil || !strings.HasPrefix(line, "VERSION ") {
		t.Fatalf("version after Restart = %q, %v", line, err)
	}
}

func TestItemSize(t *testing.T) {
	s := StartWith(t, Options{ItemSize: 2 << 20})
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	n := 1<<20 + 1000 // over the default limit, under 2 MiB
	fmt.Fprintf(c, "set big 0 0 %d\r\n%s\r\n", n, strings.Repeat("x", n))
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "STORED\r\n" {
		t.Fatalf("set of %d bytes with -I 2m = %q, %v", n, line, err)
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
	tests := []struct {
		ci       string
		wantSkip bool
	}{
		{"", true},
		{"false", true},
		{"true", false},
	}
	for _, tc := range tests {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("MEMCACHED_BIN", "/nonexistent/memcached")
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			if s := Start(f); s != nil {
				t.Fatalf("Start returned a server without a binary")
			}
			if tc.wantSkip && (f.skipped == "" || f.failed != "") {
				t.Fatalf("want skip; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if !tc.wantSkip && (f.failed == "" || f.skipped != "") {
				t.Fatalf("want fatal; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if msg := f.skipped + f.failed; !strings.Contains(msg, "MEMCACHED_BIN") {
				t.Errorf("message %q does not name MEMCACHED_BIN", msg)
			}
		})
	}
}

func TestStartNPauseStats(t *testing.T) {
	servers := StartN(t, 3, Options{})
	addrs := Addrs(servers)
	if len(addrs) != 3 || addrs[0] == addrs[1] || addrs[1] == addrs[2] || addrs[0] == addrs[2] {
		t.Fatalf("StartN addresses %q, want 3 distinct", addrs)
	}
	st, err := servers[1].Stats()
	if err != nil || st["pid"] == "" {
		t.Fatalf("Stats = %v, %v; want a pid", st, err)
	}
	servers[1].Pause()
	if _, err := version(servers[1].Addr); err == nil {
		t.Fatal("a paused server answered")
	}
	servers[1].Resume()
	if line, err := version(servers[1].Addr); err != nil || !strings.HasPrefix(line, "VERSION ") {
		t.Fatalf("version after Resume = %q, %v", line, err)
	}
	servers[2].Pause()
	servers[2].Kill() // a paused server can be killed
	servers[2].Restart()
	if _, err := servers[2].Stats(); err != nil {
		t.Fatalf("Stats after restart: %v", err)
	}
}
