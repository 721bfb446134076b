package benchcmd

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tiercache/tiercache/internal/testserver"
)

// mcServer is the memcached the memcached layouts use: one given with
// -memcached, or one the command started from PATH (owned), which is
// restarted empty before each layout and stopped at exit.
type mcServer struct {
	addr   string
	owned  bool
	bin    string
	memory int64
	proc   *testserver.Process // an owned server's process; nil while stopped
	nonce  string
}

// findMemcached returns the server to use, nil when there is none. A
// problem is reported on stderr; the other layouts still run.
func findMemcached(o *options, stderr io.Writer) *mcServer {
	switch o.memcached {
	case "off", "none":
		return nil
	case "":
		bin, err := testserver.Memcached.Path()
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

// start runs memcached on a free loopback port and waits until it accepts
// connections.
func (s *mcServer) start() error {
	p, err := testserver.Start(testserver.Config{Bin: s.bin, Args: func(port int) []string {
		return append(testserver.MemcachedArgs(port, int(max(s.memory>>20, 64))), "-t", "2")
	}})
	if err != nil {
		return err
	}
	s.proc, s.addr = p, p.Addr
	return nil
}

// stop ends a memcached the command started; it is idempotent.
func (s *mcServer) stop() {
	if s == nil || s.proc == nil {
		return
	}
	s.proc.Kill()
	s.proc = nil
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
	return testserver.MemcachedStats(s.addr, 2*time.Second)
}
