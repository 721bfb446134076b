package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helperEnv makes the test binary act as the server under test: "serve"
// listens on 127.0.0.1:<first argument> and greets every connection with
// "hello"; "fail" prints "boom" and exits 2.
const helperEnv = "TESTSERVER_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "serve":
		serve(os.Args[1])
	case "fail":
		fmt.Println("boom")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func serve(port string) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Fprintln(c, "hello")
		c.Close()
	}
}

// helper returns the Config of the test binary in the given helper mode.
func helper(t *testing.T, mode string) Config {
	t.Setenv(helperEnv, mode)
	return Config{Bin: os.Args[0], Args: func(port int) []string { return []string{strconv.Itoa(port)} }}
}

// greeting dials addr and reads the greeting line, waiting at most wait.
func greeting(addr string, wait time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	return bufio.NewReader(c).ReadString('\n')
}

func startHelper(t *testing.T, cfg Config) *Process {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func TestStartKillRestart(t *testing.T) {
	p := startHelper(t, helper(t, "serve"))
	if line, err := greeting(p.Addr, time.Second); line != "hello\n" {
		t.Fatalf("greeting from %s = %q, %v", p.Addr, line, err)
	}
	p.Kill()
	if _, err := greeting(p.Addr, time.Second); err == nil {
		t.Fatalf("server on %s still answers after Kill", p.Addr)
	}
	p.Kill() // idempotent
	if err := p.Pause(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause after Kill = %v, want ErrNotRunning", err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	if line, err := greeting(p.Addr, time.Second); line != "hello\n" {
		t.Fatalf("greeting after Restart = %q, %v", line, err)
	}
}

func TestPauseResume(t *testing.T) {
	if stopSignal == nil {
		t.Skip("no SIGSTOP on this system")
	}
	p := startHelper(t, helper(t, "serve"))
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	if line, err := greeting(p.Addr, 200*time.Millisecond); err == nil {
		t.Fatalf("a paused server answered %q", line)
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if line, err := greeting(p.Addr, 10*time.Second); line != "hello\n" { // a hang guard
		t.Fatalf("greeting after Resume = %q, %v", line, err)
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	p.Kill() // a paused process can be killed
	if _, err := greeting(p.Addr, time.Second); err == nil {
		t.Fatal("server answers after Kill while paused")
	}
}

// TestStartFailures: a server that exits at once is reported with its
// output, one that never gets ready with what was awaited.
func TestStartFailures(t *testing.T) {
	t.Run("exits", func(t *testing.T) {
		_, err := Start(helper(t, "fail"))
		if err == nil || !strings.Contains(err.Error(), "exited before accepting connections") ||
			!strings.Contains(err.Error(), "output: boom") {
			t.Fatalf("Start of a failing server: %v", err)
		}
	})
	t.Run("never ready", func(t *testing.T) {
		cfg := helper(t, "serve")
		notYet := errors.New("not yet")
		cfg.Ready = func(string) error { return notYet }
		cfg.Serving, cfg.ReadyTimeout = "answering PING", 50*time.Millisecond
		_, err := Start(cfg)
		if !errors.Is(err, notYet) || !strings.Contains(err.Error(), "not answering PING after") {
			t.Fatalf("Start of a server never ready: %v", err)
		}
	})
	t.Run("no binary", func(t *testing.T) {
		cfg := helper(t, "serve")
		cfg.Bin = "/nonexistent/server"
		if _, err := Start(cfg); err == nil || !strings.Contains(err.Error(), "/nonexistent/server") {
			t.Fatalf("Start without a binary: %v", err)
		}
	})
}

func TestLimitedBuffer(t *testing.T) {
	b := &limitedBuffer{max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "abcde" {
		t.Fatalf("kept %q, want the first 5 bytes", got)
	}
}
