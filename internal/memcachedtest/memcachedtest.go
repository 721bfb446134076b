// Package memcachedtest starts real memcached servers for tests.
//
// [Start] runs the memcached binary named by $MEMCACHED_BIN, or the first
// "memcached" on $PATH, on a free loopback port and stops it when the test
// ends. Without the binary the test is skipped with a message saying how to
// install it, except when $CI is "true", where a missing binary fails the
// test: CI must never pass by skipping.
package memcachedtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Defaults of the server Start launches.
const (
	// MemoryMB is the memory limit passed as -m.
	MemoryMB = 64
	// ReadyTimeout bounds the wait for a started server to accept connections.
	ReadyTimeout = 5 * time.Second
	// startAttempts is how often Start retries when the chosen free port was
	// taken by someone else before memcached could bind it.
	startAttempts = 3
)

// Options tune the server that StartWith launches. The zero value is what
// Start uses.
type Options struct {
	// ItemSize is the largest item the server stores, in bytes (-I); 0
	// keeps memcached's default of 1 MiB.
	ItemSize int
	// Args are extra command-line arguments appended after the defaults.
	Args []string
}

// Server is a running memcached process owned by one test. Its methods are
// safe for concurrent use; Kill and Restart block until the process has
// exited or accepts connections.
type Server struct {
	// Addr is the server's "127.0.0.1:port" address; it stays the same
	// across Kill and Restart.
	Addr string

	tb   testing.TB
	bin  string
	args []string

	mu     sync.Mutex
	proc   *os.Process  // nil while killed
	exited <-chan error // receives the process's exit
}

// Start starts memcached with the default options; see StartWith.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith starts memcached on a free loopback port with
// "-l 127.0.0.1 -p PORT -U 0 -m 64" (plus "-u root" when running as root,
// which memcached requires, and -I when opt.ItemSize is set), waits at most
// ReadyTimeout until it accepts connections and registers a t.Cleanup that
// stops it. It skips (or, under CI=true, fails) the test when no binary is
// found. It returns nil only after Skip or Fatal on a TB that does not stop
// the goroutine.
func StartWith(tb testing.TB, opt Options) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("memcachedtest: %v (CI=true: memcached is required)", err)
		} else {
			tb.Skipf("memcachedtest: %v; install memcached (apt-get install memcached) or set MEMCACHED_BIN to run this test", err)
		}
		return nil
	}
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("memcachedtest: %v", err)
			return nil
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), tb: tb, bin: bin}
		s.args = buildArgs(port, opt)
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Kill)
			return s
		}
	}
	tb.Fatalf("memcachedtest: %v", lastErr)
	return nil
}

// Binary returns the path of the memcached binary: $MEMCACHED_BIN when set,
// otherwise "memcached" looked up on $PATH.
func Binary() (string, error) {
	if bin := os.Getenv("MEMCACHED_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("MEMCACHED_BIN=%q: %w", bin, err)
		}
		return bin, nil
	}
	bin, err := exec.LookPath("memcached")
	if err != nil {
		return "", fmt.Errorf("memcached binary not found on PATH: %w", err)
	}
	return bin, nil
}

func buildArgs(port int, opt Options) []string {
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", strconv.Itoa(MemoryMB)}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	if opt.ItemSize > 0 {
		args = append(args, "-I", strconv.Itoa(opt.ItemSize))
	}
	return append(args, opt.Args...)
}

// freePort asks the kernel for a free loopback TCP port. Another process
// may take it before memcached binds it; Start retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Kill stops the server with SIGKILL and waits for it to exit, so that
// clients see dropped connections and refused dials. Killing a stopped
// server does nothing. Start registers Kill with t.Cleanup.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc, s.exited = nil, nil
}

// Restart starts the server again on the same port, empty, after Kill. It
// kills a running server first. It fails the test when the server does not
// come up within ReadyTimeout. Call it from the test's goroutine.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	var err error
	for range startAttempts {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may linger briefly
	}
	s.tb.Fatalf("memcachedtest: restart on %s: %v", s.Addr, err)
}

// start launches the process and waits until it accepts connections.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.SysProcAttr = sysProcAttr()
	out := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	// exited yields the exit once and is closed after it, so that a second
	// receive (waitReady saw the exit, then start or Kill waits) returns
	// at once instead of blocking forever.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(exited) }()
	if err := waitReady(s.Addr, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s %v: %w; output: %s", s.bin, s.args, err, out.String())
	}
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.mu.Unlock()
	return nil
}

// waitReady polls addr until it accepts a TCP connection, the process
// exits, or ReadyTimeout passes.
func waitReady(addr string, exited <-chan error) error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before accepting connections: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after %v: %w", ReadyTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
