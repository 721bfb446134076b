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
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// ReadyTimeout bounds the wait for a started server to answer PING.
	ReadyTimeout = 5 * time.Second
	// startAttempts is how often a start is retried when the chosen free
	// port was taken by someone else before the server could bind it.
	startAttempts = 3
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

	bin  string
	dir  string // working directory (cluster state), removed by Close
	args []string

	mu     sync.Mutex
	proc   *os.Process  // nil while killed
	exited <-chan error // receives the process's exit, then is closed
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
	_, err := Binary()
	if err == nil {
		return true
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("redistest: %v (CI=true: redis-server is required)", err)
	} else {
		tb.Skipf("redistest: %v; install redis-server (apt-get install redis-server) or set REDIS_BIN to run this test", err)
	}
	return false
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
	var lastErr error
	for range startAttempts {
		port, err := FreePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, dir: dir}
		s.args = buildArgs(port, dir, opt)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// Binary returns the path of the server binary: $REDIS_BIN when set,
// otherwise "redis-server", else "valkey-server", looked up on $PATH.
func Binary() (string, error) {
	return lookup("REDIS_BIN", "redis-server", "valkey-server")
}

// CLIBinary returns the path of the command-line client used to create
// clusters: $REDIS_CLI when set, otherwise "redis-cli", else "valkey-cli".
func CLIBinary() (string, error) {
	return lookup("REDIS_CLI", "redis-cli", "valkey-cli")
}

func lookup(env string, names ...string) (string, error) {
	if bin := os.Getenv(env); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%q: %w", env, bin, err)
		}
		return bin, nil
	}
	var err error
	for _, name := range names {
		var bin string
		if bin, err = exec.LookPath(name); err == nil {
			return bin, nil
		}
	}
	return "", fmt.Errorf("%s binary not found on PATH (set %s): %w", names[0], env, err)
}

func buildArgs(port int, dir string, opt Options) []string {
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no", "--loglevel", "warning"}
	if opt.MaxMemory > 0 {
		args = append(args, "--maxmemory", strconv.FormatInt(opt.MaxMemory, 10), "--maxmemory-policy", "allkeys-lru")
	}
	return append(args, opt.Args...)
}

// FreePort asks the kernel for a free loopback TCP port. Another process
// may take it before the server binds it; starts retry in that case.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Kill stops the server with SIGKILL and waits for it to exit, so that
// clients see dropped connections and refused dials. Killing a stopped
// server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Signal(syscall.SIGCONT) // a paused process dies only once resumed
	_ = s.proc.Kill()
	<-s.exited
	s.proc, s.exited = nil, nil
}

// Close kills the server and removes its directory. StartWith registers it
// with t.Cleanup.
func (s *Server) Close() {
	s.Kill()
	_ = os.RemoveAll(s.dir)
}

// Pause stops the process with SIGSTOP: it keeps its connections open but
// answers nothing, like a hung server, until Resume.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("redistest: server not running")
	}
	return s.proc.Signal(sig)
}

// Restart starts the server again on the same port, empty, after Kill (it
// kills a running server first).
func (s *Server) Restart() error {
	s.Kill()
	var err error
	for range startAttempts {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // the port may linger briefly
	}
	return fmt.Errorf("redistest: restart on %s: %w", s.Addr, err)
}

// start launches the process and waits until it answers PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	out := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(exited) }()
	if err := waitReady(s.Addr, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s %v: %w; output: %s", filepath.Base(s.bin), s.args, err, out.String())
	}
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.mu.Unlock()
	return nil
}

// waitReady polls addr with PING until it answers, the process exits, or
// ReadyTimeout passes.
func waitReady(addr string, exited <-chan error) error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before answering PING: %v", err)
		default:
		}
		reply, err := Command(addr, "PING")
		if err == nil && reply == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG after %v: %q, %v", ReadyTimeout, reply, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
