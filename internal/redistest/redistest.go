// Package redistest starts real Redis (or Valkey) servers for tests and
// benchmarks.
//
// [Start] runs the binary named by $REDIS_BIN, or the first "redis-server"
// (else "valkey-server") on $PATH, on a free loopback port, with no
// persistence, and stops it when the test ends. [StartCluster] starts
// several servers in cluster mode and joins them with redis-cli (or
// $REDIS_CLI) into a cluster of masters. Without the binaries the test is
// skipped with a message saying how to install them, except when $CI is
// "true", where a missing binary fails the test: CI must never pass by
// skipping. [StartProcess] is the same without a testing.TB, for commands.
package redistest

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/testserver"
)

// ReadyTimeout bounds the wait for a started server to answer PING.
const ReadyTimeout = 5 * time.Second

// The server and command-line client binaries.
var (
	serverBinary = testserver.Binary{Env: "REDIS_BIN", Names: []string{"redis-server", "valkey-server"},
		Install: "redis-server (apt-get install redis-server)"}
	cliBinary = testserver.Binary{Env: "REDIS_CLI", Names: []string{"redis-cli", "valkey-cli"},
		Install: "redis-tools (apt-get install redis-server)"}
)

// Options tune the server that StartWith and StartProcess launch. The zero
// value is what Start uses.
type Options struct {
	// MaxMemory is the server's maxmemory in bytes (with allkeys-lru
	// eviction); 0 means no limit.
	MaxMemory int64
	// Args are extra command-line arguments ("--name", "value", ...)
	// appended after the defaults.
	Args []string
}

// Server is a running redis-server process. Its methods are safe for
// concurrent use; Kill and Restart block until the process has exited or
// answers PING.
type Server struct {
	// Addr is the server's "127.0.0.1:port" address; it stays the same
	// across Kill and Restart.
	Addr string

	dir string // working directory (cluster state), removed by Close
	p   *testserver.Process
}

// Start starts a server with the default options; see StartWith.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith starts a server on a free loopback port (see StartProcess),
// waits at most ReadyTimeout until it answers PING and registers a
// t.Cleanup that stops it. It skips (or, under CI=true, fails) the test
// when no binary is found. It returns nil only after Skip or Fatal on a TB
// that does not stop the goroutine.
func StartWith(tb testing.TB, opt Options) *Server {
	tb.Helper()
	if !Available(tb) {
		return nil
	}
	s, err := StartProcess(opt)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
		return nil
	}
	tb.Cleanup(s.Close)
	return s
}

// Available reports whether a redis-server binary is found. When it is
// not, it skips the test (or, under CI=true, fails it) with a message
// saying how to install one, and returns false.
func Available(tb testing.TB) bool {
	tb.Helper()
	_, ok := serverBinary.Require(tb, "redistest")
	return ok
}

// StartProcess starts redis-server on a free loopback port with
// --bind 127.0.0.1 --port PORT, no snapshots (--save "") and no AOF, in a fresh
// temporary directory, plus opt, and waits at most ReadyTimeout until it
// answers PING. The caller must call Close.
func StartProcess(opt Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	p, err := testserver.Start(testserver.Config{Bin: bin, Args: func(port int) []string { return buildArgs(port, dir, opt) },
		Dir: dir, Ready: ping, Serving: "answering PING", ReadyTimeout: ReadyTimeout})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Server{Addr: p.Addr, dir: dir, p: p}, nil
}

// Binary returns the path of the server binary: $REDIS_BIN when set,
// otherwise "redis-server", else "valkey-server", looked up on $PATH.
func Binary() (string, error) { return serverBinary.Path() }

// CLIBinary returns the path of the command-line client used to create
// clusters: $REDIS_CLI when set, otherwise "redis-cli", else "valkey-cli".
func CLIBinary() (string, error) { return cliBinary.Path() }

func buildArgs(port int, dir string, opt Options) []string {
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no", "--loglevel", "warning"}
	if opt.MaxMemory > 0 {
		args = append(args, "--maxmemory", strconv.FormatInt(opt.MaxMemory, 10), "--maxmemory-policy", "allkeys-lru")
	}
	return append(args, opt.Args...)
}

// ping reports nil when the server at addr answers PING with PONG.
func ping(addr string) error {
	reply, err := Command(addr, "PING")
	if err == nil && reply != "PONG" {
		err = fmt.Errorf("PING = %q", reply)
	}
	return err
}

// FreePort asks the kernel for a free loopback TCP port. Another process
// may take it before the server binds it; starts retry in that case.
func FreePort() (int, error) { return testserver.FreePort() }

// Kill stops the server with SIGKILL and waits for it to exit, so that
// clients see dropped connections and refused dials. Killing a stopped
// server does nothing.
func (s *Server) Kill() { s.p.Kill() }

// Close kills the server and removes its directory. StartWith registers it
// with t.Cleanup.
func (s *Server) Close() {
	s.Kill()
	_ = os.RemoveAll(s.dir)
}

// Pause stops the process with SIGSTOP: it keeps its connections open but
// answers nothing, like a hung server, until Resume.
func (s *Server) Pause() error { return wrap(s.p.Pause()) }

// Resume continues a paused server.
func (s *Server) Resume() error { return wrap(s.p.Resume()) }

// Restart starts the server again on the same port, empty, after Kill (it
// kills a running server first).
func (s *Server) Restart() error { return wrap(s.p.Restart()) }

// wrap prefixes a non-nil err with the package name.
func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	return nil
}
