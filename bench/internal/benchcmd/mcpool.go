package benchcmd

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/memcached"
	"github.com/tiercache/tiercache/internal/testserver"
)

// poolSize is the number of servers of the pool layouts.
const poolSize = 3

// mcPool is the memcached servers of the pool layouts (lru-mc3, lru-mc3r2):
// always started by the command from PATH or $MEMCACHED_BIN, each with a
// third of -memcached-memory, restarted empty before each layout and
// stopped at exit. With -kill-server, one of them is killed halfway through
// each pool layout's measured run.
type mcPool struct {
	servers []*mcServer
}

// startPool starts the pool, nil when it cannot (the reason goes to
// stderr; the other layouts still run).
func startPool(o *options, stderr io.Writer) *mcPool {
	if o.memcached == "off" || o.memcached == "none" {
		return nil
	}
	bin, err := testserver.Memcached.Path()
	if err != nil {
		fmt.Fprintln(stderr, "bench: no memcached on PATH (or $MEMCACHED_BIN): skipping the memcached pool layouts")
		return nil
	}
	p := &mcPool{}
	for range poolSize {
		s := &mcServer{owned: true, bin: bin, memory: int64(o.mcMemory) / poolSize}
		if err := s.start(); err != nil {
			p.stop()
			fmt.Fprintf(stderr, "bench: cannot start %s: %v: skipping the memcached pool layouts\n", bin, err)
			return nil
		}
		p.servers = append(p.servers, s)
	}
	return p
}

// prepare restarts every server empty (a killed one too).
func (p *mcPool) prepare() error {
	for _, s := range p.servers {
		s.stop()
		if err := s.start(); err != nil {
			return err
		}
	}
	return nil
}

// addrs returns the servers' addresses.
func (p *mcPool) addrs() []string {
	out := make([]string, len(p.servers))
	for i, s := range p.servers {
		out[i] = s.addr
	}
	return out
}

// bytes returns the memory used by items on the live servers, -1 when no
// server answers.
func (p *mcPool) bytes() int64 {
	var total int64 = -1
	for _, s := range p.servers {
		if s.proc == nil {
			continue
		}
		if n := s.bytes(); n >= 0 {
			total = max(total, 0) + n
		}
	}
	return total
}

// kill stops server i with SIGKILL, as a crashed server; it returns its
// address.
func (p *mcPool) kill(i int) string {
	p.servers[i].stop()
	return p.servers[i].addr
}

// stop stops every server; it is idempotent and accepts a nil pool.
func (p *mcPool) stop() {
	if p == nil {
		return
	}
	for _, s := range p.servers {
		s.stop()
	}
}

// buildPool builds the memcached tier of a pool layout: a ring over the
// pool's servers with spec.replicas replicas.
func (e *env) buildPool(s *stack) (tiercache.Manager, tier, error) {
	if e.pool == nil {
		return nil, tier{}, errors.New("no memcached pool available")
	}
	if err := e.pool.prepare(); err != nil {
		return nil, tier{}, err
	}
	m, err := memcached.New(memcached.Config{
		Servers:      e.pool.addrs(),
		Replicas:     max(1, s.spec.replicas),
		MaxIdleConns: max(64, 2*e.o.concurrency),
	})
	if err != nil {
		return nil, tier{}, err
	}
	s.closers = append(s.closers, m.Close)
	s.mc = m
	base := e.pool.bytes()
	name := "memcached×" + strconv.Itoa(poolSize)
	if s.spec.replicas > 1 {
		name += " r" + strconv.Itoa(s.spec.replicas)
	}
	return m, tier{name: name, held: func() int64 {
		if n := e.pool.bytes(); n >= 0 && base >= 0 {
			return n - base
		}
		return -1
	}}, nil
}
