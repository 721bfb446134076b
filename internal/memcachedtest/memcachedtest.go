// Package memcachedtest starts real memcached servers for tests.
//
// [Start] runs the memcached binary named by $MEMCACHED_BIN, or the first
// "memcached" on $PATH, on a free loopback port and stops it when the test
// ends. Without the binary the test is skipped with a message saying how to
// install it, except when $CI is "true", where a missing binary fails the
// test: CI must never pass by skipping.
package memcachedtest

import (
	"strconv"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/testserver"
)

// Defaults of the server Start launches.
const (
	// MemoryMB is the memory limit passed as -m.
	MemoryMB = 64
	// ReadyTimeout bounds the wait for a started server to accept connections.
	ReadyTimeout = 5 * time.Second
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

	tb testing.TB
	p  *testserver.Process
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
	bin, ok := testserver.Memcached.Require(tb, "memcachedtest")
	if !ok {
		return nil
	}
	p, err := testserver.Start(testserver.Config{Bin: bin, Args: func(port int) []string { return buildArgs(port, opt) },
		ReadyTimeout: ReadyTimeout})
	if err != nil {
		tb.Fatalf("memcachedtest: %v", err)
		return nil
	}
	s := &Server{Addr: p.Addr, tb: tb, p: p}
	tb.Cleanup(s.Kill)
	return s
}

// Binary returns the path of the memcached binary: $MEMCACHED_BIN when set,
// otherwise "memcached" looked up on $PATH.
func Binary() (string, error) { return testserver.Memcached.Path() }

func buildArgs(port int, opt Options) []string {
	args := testserver.MemcachedArgs(port, MemoryMB)
	if opt.ItemSize > 0 {
		args = append(args, "-I", strconv.Itoa(opt.ItemSize))
	}
	return append(args, opt.Args...)
}

// Kill stops the server with SIGKILL and waits for it to exit, so that
// clients see dropped connections and refused dials. Killing a stopped
// server does nothing. Start registers Kill with t.Cleanup.
func (s *Server) Kill() { s.p.Kill() }

// Restart starts the server again on the same port, empty, after Kill. It
// kills a running server first. It fails the test when the server does not
// come up within ReadyTimeout. Call it from the test's goroutine.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.p.Restart(); err != nil {
		s.tb.Fatalf("memcachedtest: %v", err)
	}
}
