// Package testserver runs a server binary (memcached, redis-server) as a
// child process on a free loopback port, for tests and benchmarks: [Start]
// waits until the server is ready, and a [Process] can be killed with
// SIGKILL, restarted on the same port, paused with SIGSTOP and resumed.
// internal/memcachedtest and internal/redistest are thin testing.TB layers
// on it; it does not import testing, so that commands (the bench) use it
// without the test framework.
package testserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

const (
	// DefaultReadyTimeout is the wait for readiness when
	// Config.ReadyTimeout is zero.
	DefaultReadyTimeout = 5 * time.Second
	// startAttempts is how often a start is retried when the chosen free
	// port was taken by someone else before the server could bind it.
	startAttempts = 3
)

// ErrNotRunning is returned by Pause and Resume on a killed process.
var ErrNotRunning = errors.New("server not running")

// Config describes the server that Start launches.
type Config struct {
	// Bin is the path of the server binary.
	Bin string
	// Args returns the command-line arguments of a server listening on
	// 127.0.0.1:port. Start calls it once per port it tries.
	Args func(port int) []string
	// Dir is the process's working directory; "" is the caller's.
	Dir string
	// Ready reports nil once the server at addr serves. nil means "accepts
	// a TCP connection".
	Ready func(addr string) error
	// Serving says what Ready waits for, in error messages ("exited
	// before answering PING"); "" means "accepting connections".
	Serving string
	// ReadyTimeout bounds the wait for Ready; 0 means DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Process is a running server started by Start. Its methods are safe for
// concurrent use; Kill and Restart block until the process has exited or
// is ready.
type Process struct {
	// Addr is the server's "127.0.0.1:port" address; it stays the same
	// across Kill and Restart.
	Addr string

	cfg  Config
	args []string

	mu     sync.Mutex
	proc   *os.Process  // nil while killed
	exited <-chan error // receives the process's exit, then is closed
}

// Start starts cfg.Bin on a free loopback port and waits until it is
// ready, trying other ports when the chosen one was taken before the
// server bound it. The caller must Kill the process; on Linux the kernel
// also kills it when the caller's process dies. A failed start's error
// holds the first 4 KiB of the server's output.
func Start(cfg Config) (*Process, error) {
	var lastErr error
	for range startAttempts {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		p := &Process{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg: cfg, args: cfg.Args(port)}
		if lastErr = p.start(); lastErr == nil {
			return p, nil
		}
	}
	return nil, lastErr
}

// FreePort asks the kernel for a free loopback TCP port. Another process
// may take it before the server binds it; Start retries in that case.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Kill stops the server with SIGKILL (a paused one too) and waits for it
// to exit, so that clients see dropped connections and refused dials.
// Killing a stopped server does nothing.
func (p *Process) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	if contSignal != nil {
		_ = p.proc.Signal(contSignal) // a paused process dies only once resumed
	}
	_ = p.proc.Kill()
	<-p.exited
	p.proc, p.exited = nil, nil
}

// Restart starts the server again on the same port, empty, after Kill (it
// kills a running server first), retrying briefly while the port lingers.
func (p *Process) Restart() error {
	p.Kill()
	var err error
	for range startAttempts {
		if err = p.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // the port may linger briefly
	}
	return fmt.Errorf("restart on %s: %w", p.Addr, err)
}

// Pause stops the process with SIGSTOP: it keeps its port and its
// connections, the kernel still accepts new ones, but nothing is
// answered, as a hung server behaves. It returns errors.ErrUnsupported
// where there is no SIGSTOP (Windows) and ErrNotRunning after Kill.
func (p *Process) Pause() error { return p.signal(stopSignal) }

// Resume continues a paused process with SIGCONT; its errors are Pause's.
func (p *Process) Resume() error { return p.signal(contSignal) }

func (p *Process) signal(sig os.Signal) error {
	if sig == nil {
		return errors.ErrUnsupported
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return ErrNotRunning
	}
	return p.proc.Signal(sig)
}

// start launches the process and waits until it is ready.
func (p *Process) start() error {
	cmd := exec.Command(p.cfg.Bin, p.args...)
	cmd.Dir = p.cfg.Dir
	cmd.SysProcAttr = sysProcAttr()
	out := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.cfg.Bin, err)
	}
	// exited yields the exit once and is closed after it, so that a second
	// receive (waitReady saw the exit, then start or Kill waits) returns
	// at once instead of blocking forever.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(exited) }()
	if err := p.waitReady(exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s %v: %w; output: %s", filepath.Base(p.cfg.Bin), p.args, err, out.String())
	}
	p.mu.Lock()
	p.proc, p.exited = cmd.Process, exited
	p.mu.Unlock()
	return nil
}

// waitReady polls the server until it is ready, the process exits, or the
// ready timeout passes.
func (p *Process) waitReady(exited <-chan error) error {
	ready, serving, timeout := p.cfg.Ready, p.cfg.Serving, p.cfg.ReadyTimeout
	if ready == nil {
		ready = dialable
	}
	if serving == "" {
		serving = "accepting connections"
	}
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before %s: %v", serving, err)
		default:
		}
		err := ready(p.Addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not %s after %v: %w", serving, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dialable reports nil when addr accepts a TCP connection.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err
}
