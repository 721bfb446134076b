package memcachedtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// StartN starts n servers with opt (see StartWith), each on its own free
// loopback port, for tests of a pool: kill one, restart it, add one. It
// skips or fails the test as StartWith does when there is no binary.
func StartN(tb testing.TB, n int, opt Options) []*Server {
	tb.Helper()
	servers := make([]*Server, 0, n)
	for range n {
		s := StartWith(tb, opt)
		if s == nil {
			return nil
		}
		servers = append(servers, s)
	}
	return servers
}

// Addrs returns the addresses of servers, in order.
func Addrs(servers []*Server) []string {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr
	}
	return addrs
}

// Pause stops the server process with SIGSTOP: it keeps its port and its
// connections, the kernel still accepts new ones, but nothing is answered,
// as a hung server behaves. Resume continues it. Kill works on a paused
// server. Pausing a killed server does nothing. Where there is no SIGSTOP
// (Windows), Pause skips the test.
func (s *Server) Pause() {
	s.tb.Helper()
	if stopSignal == nil {
		s.tb.Skip("memcachedtest: Pause needs SIGSTOP, which this system does not have")
	}
	s.signal(stopSignal)
}

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() {
	if contSignal != nil {
		s.signal(contSignal)
	}
}

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		_ = s.proc.Signal(sig)
	}
}

// Stats returns the server's "stats" (e.g. "cmd_get", "delete_hits",
// "curr_items"), read on a new connection with a one-second deadline.
func (s *Server) Stats() (map[string]string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "stats\r\n"); err != nil {
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
			return nil, fmt.Errorf("memcachedtest: unexpected stats line %q", line)
		}
		out[f[1]] = f[2]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("memcachedtest: stats: connection closed before END")
}
