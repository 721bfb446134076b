package memcached

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/bradfitz/gomemcache/memcache"
)

// server is one memcached server of a Store: its connection pool, health and
// counters. A server keeps its state across SetServers calls that keep it.
type server struct {
	spec serverSpec
	pool slotPool
	health
	counters
}

// counters are a server's live counters; see ServerStats.
type counters struct {
	gets, hits, misses, sets, deletes, errors atomic.Uint64
	ejections, rejoins, probes, probeErrors   atomic.Uint64
}

func newServer(spec serverSpec, cfg *Config) *server {
	s := &server{spec: spec}
	s.pool = slotPool{addr: spec.addr, timeout: cfg.Timeout, max: cfg.MaxIdleConns}
	return s
}

// do runs op on a connection to s under ctx. When op fails on a pooled
// connection the server had already closed (a restarted server leaves such
// connections behind), it runs op once more on a fresh connection; a dial
// error or a timeout is not retried, so a dead server costs one attempt.
func (s *server) do(ctx context.Context, op func(*memcache.Client) error) error {
	sl := s.pool.get()
	sl.begin(ctx)
	err := op(sl.client)
	if err != nil && !sl.dialed && staleConn(err) && ctx.Err() == nil {
		err = op(sl.client)
	}
	sl.end()
	s.pool.put(sl)
	return err
}

// staleConn reports an error from a connection the peer has closed.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// serverDown reports whether err means the server could not be reached or
// did not answer: a refused or reset connection, a timeout, a connection
// closed mid-reply. Answers (a miss, NOT_STORED, a SERVER_ERROR line) are
// not failures of the server.
func serverDown(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var cte *memcache.ConnectTimeoutError
	return staleConn(err) || errors.As(err, &ne) || errors.As(err, &cte) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// answered reports whether err is one of memcached's ordinary answers.
func answered(err error) bool {
	return err == nil || errors.Is(err, memcache.ErrCacheMiss) || errors.Is(err, memcache.ErrNotStored) ||
		errors.Is(err, memcache.ErrCASConflict)
}
