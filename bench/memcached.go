package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// mcServer is the memcached the memcached layouts use: one given with
// -memcached, or one the command started from PATH (owned), which is
// restarted empty before each layout and stopped at exit.
type mcServer struct {
	addr   string
	owned  bool
	bin    string
	memory int64
	cmd    *exec.Cmd
	nonce  string
}

// findMemcached returns the server to use, nil when there is none. A
// problem is reported on stderr; the other layouts still run.
func findMemcached(o *options, stderr io.Writer) *mcServer {
	switch o.memcached {
	case "off", "none":
		return nil
	case "":
		bin, err := memcachedBin()
		if err != nil {
			fmt.Fprintln(stderr, "bench: no memcached on PATH (or $MEMCACHED_BIN) and no -memcached: skipping the memcached layouts")
			return nil
		}
		s := &mcServer{owned: true, bin: bin, memory: int64(o.mcMemory)}
		if err := s.start(); err != nil {
			fmt.Fprintf(stderr, "bench: cannot start %s: %v: skipping the memcached layouts\n", bin, err)
			return nil
		}
		return s
	}
	s := &mcServer{addr: o.memcached, nonce: strconv.FormatInt(time.Now().UnixNano(), 36)}
	if _, err := s.stats(); err != nil {
		fmt.Fprintf(stderr, "bench: memcached at %s is unreachable (%v): skipping the memcached layouts\n", o.memcached, err)
		return nil
	}
	return s
}

// memcachedBin returns $MEMCACHED_BIN, or the memcached on PATH.
func memcachedBin() (string, error) {
	if bin := os.Getenv("MEMCACHED_BIN"); bin != "" {
		return bin, nil
	}
	return exec.LookPath("memcached")
}

// start runs memcached on a free loopback port and waits until it answers.
func (s *mcServer) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.cmd = exec.Command(s.bin, "-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0",
		"-m", strconv.FormatInt(max(s.memory>>20, 64), 10), "-t", "2")
	if os.Geteuid() == 0 {
		s.cmd.Args = append(s.cmd.Args, "-u", "root") // memcached refuses root without -u
	}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := s.stats(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("not answering on %s: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends a memcached the command started; it is idempotent.
func (s *mcServer) stop() {
	if s == nil || s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// prepare readies the server for layout id and returns the key prefix to
// use: an owned server is restarted empty (no prefix needed); a given one is
// shared, so keys get a prefix unique to this run and layout.
func (s *mcServer) prepare(id string) (string, error) {
	if !s.owned {
		return "tiercache-bench-" + s.nonce + "-" + id + ":", nil
	}
	s.stop()
	return "", s.start()
}

// bytes returns the server's "bytes" statistic (memory used by items), or
// -1 when it cannot be read. For a shared server it includes other data.
func (s *mcServer) bytes() int64 {
	st, err := s.stats()
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(st["bytes"], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// stats runs the "stats" command.
func (s *mcServer) stats() (map[string]string, error) {
	c, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "stats\r\n"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "END" {
			return out, nil
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			return nil, fmt.Errorf("unexpected reply %q", line)
		}
		out[f[1]] = f[2]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("connection closed before END")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
