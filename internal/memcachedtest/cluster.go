package memcachedtest

import (
	"errors"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/testserver"
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
	if errors.Is(s.p.Pause(), errors.ErrUnsupported) {
		s.tb.Skip("memcachedtest: Pause needs SIGSTOP, which this system does not have")
	}
}

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() { _ = s.p.Resume() }

// Stats returns the server's "stats" (e.g. "cmd_get", "delete_hits",
// "curr_items"), read on a new connection with a one-second deadline.
func (s *Server) Stats() (map[string]string, error) {
	return testserver.MemcachedStats(s.Addr, time.Second)
}
