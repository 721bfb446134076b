package memcached

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/ratelog"
)

// maxReplicas bounds Config.Replicas (and keeps replica lists on the stack).
const maxReplicas = 8

// topology is an immutable view of the servers: the ring over them, or a
// user's selector. SetServers replaces it as a whole; calls load it once
// with an atomic read and never lock it.
type topology struct {
	servers []*server               // configuration order (ring index)
	ring    *ring                   // nil with a custom selector
	sel     memcache.ServerSelector // Config.Selector, or nil
	byAddr  map[string]*server      // servers by address, for the selector
}

// live reports whether server i is in the ring (not ejected).
func (t *topology) live(i int) bool { return !t.servers[i].ejected.Load() }

func anyServer(int) bool { return true }

// cluster is the membership, placement and health of a Store's servers.
type cluster struct {
	cfg *Config // with defaults; never changed
	log *ratelog.Logger
	top atomic.Pointer[topology]
	mu  sync.Mutex // serializes topology changes (never held across I/O)

	// The monitor goroutine probes ejected and suspect servers.
	wake      chan struct{}
	closeCtx  context.Context // cancelled by close: ends probes at once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// newCluster resolves cfg's servers (or asks its Selector) and starts the
// monitor goroutine; close stops it.
func newCluster(cfg *Config) (*cluster, error) {
	c := &cluster{cfg: cfg, log: ratelog.New(cfg.Logger, 0), wake: make(chan struct{}, 1)}
	if cfg.Selector != nil {
		c.top.Store(c.selectorTopology(nil, nil))
	} else {
		specs, err := parseServers(cfg.Servers)
		if err != nil {
			return nil, err
		}
		c.top.Store(c.ringTopology(nil, specs))
	}
	c.closeCtx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.monitor()
	return c, nil
}

// ringTopology builds a ring over specs, keeping the servers of old that
// are listed again unchanged (their connections, health and counters).
func (c *cluster) ringTopology(old *topology, specs []serverSpec) *topology {
	t := &topology{servers: make([]*server, len(specs)), byAddr: make(map[string]*server, len(specs))}
	names, weights := make([]string, len(specs)), make([]int, len(specs))
	for i, spec := range specs {
		s := old.find(spec.addr.String())
		if s == nil || !s.spec.same(spec) {
			s = newServer(spec, c.cfg)
		}
		t.servers[i], t.byAddr[spec.addr.String()] = s, s
		names[i], weights[i] = spec.point, spec.weight
	}
	t.ring = newRing(names, weights)
	return t
}

// selectorTopology lists the selector's servers, keeping those of old, plus
// extra (an address PickServer returned that Each did not list).
func (c *cluster) selectorTopology(old *topology, extra net.Addr) *topology {
	t := &topology{sel: c.cfg.Selector, byAddr: map[string]*server{}}
	add := func(a net.Addr) error {
		if t.byAddr[a.String()] != nil {
			return nil
		}
		s := old.find(a.String())
		if s == nil {
			s = newServer(serverSpec{name: a.String(), weight: 1, addr: newStaticAddr(a)}, c.cfg)
		}
		t.servers = append(t.servers, s)
		t.byAddr[a.String()] = s
		return nil
	}
	_ = c.cfg.Selector.Each(add)
	if extra != nil {
		_ = add(extra)
	}
	return t
}

func (t *topology) find(addr string) *server {
	if t == nil {
		return nil
	}
	return t.byAddr[addr]
}

// replicas is a short list of servers a call goes to.
type replicas struct {
	list     [maxReplicas]*server
	n        int
	fallback bool // every server is ejected: these are the key's own servers
}

func (r *replicas) servers() []*server { return r.list[:r.n] }

// pick fills r with the servers for the item key ik: the first n live
// servers on the ring from ik's position; when every server is ejected, the
// first n regardless (there is nothing to fail over to, and a success brings
// a server back). With a Selector, the one server it picks.
func (c *cluster) pick(ik string, n int, r *replicas) error {
	t := c.top.Load()
	if t.sel != nil {
		addr, err := t.sel.PickServer(ik)
		if err != nil {
			return err
		}
		s := t.byAddr[addr.String()]
		if s == nil {
			s = c.adopt(addr)
		}
		r.list[0], r.n = s, 1
		return nil
	}
	var idx [maxReplicas]int
	ids := t.ring.pick(ik, n, t.live, idx[:0])
	if len(ids) == 0 {
		ids, r.fallback = t.ring.pick(ik, n, anyServer, idx[:0]), true
	}
	for i, id := range ids {
		r.list[i] = t.servers[id]
	}
	r.n = len(ids)
	if r.n == 0 {
		return memcache.ErrNoServers
	}
	return nil
}

// next returns the first live server on the ring from ik's position that
// is not in exclude, or nil (with a Selector, or when none is left).
func (c *cluster) next(ik string, exclude []*server) *server {
	t := c.top.Load()
	if t.ring == nil {
		return nil
	}
	var idx [1]int
	ids := t.ring.pick(ik, 1, func(i int) bool { return t.live(i) && !slices.Contains(exclude, t.servers[i]) }, idx[:0])
	if len(ids) == 0 {
		return nil
	}
	return t.servers[ids[0]]
}

// adopt adds a server the Selector picked but did not list.
func (c *cluster) adopt(addr net.Addr) *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.top.Load()
	if s := t.byAddr[addr.String()]; s != nil {
		return s
	}
	nt := c.selectorTopology(t, addr)
	c.top.Store(nt)
	return nt.byAddr[addr.String()]
}

// setServers replaces the server list. It resolves the addresses first,
// then swaps the topology under c.mu (no I/O under it) and closes the idle
// connections of servers no longer listed; calls in flight on them finish
// normally.
func (c *cluster) setServers(entries []string) error {
	if c.cfg.Selector != nil {
		ss, ok := c.cfg.Selector.(interface{ SetServers(...string) error })
		if !ok {
			return fmt.Errorf("memcached: set servers: %w: Config.Selector (%T) has no SetServers method", tiercache.ErrInvalid, c.cfg.Selector)
		}
		if err := ss.SetServers(entries...); err != nil {
			return fmt.Errorf("memcached: set servers: %w: %v", tiercache.ErrInvalid, err)
		}
		return c.swap(func(old *topology) *topology { return c.selectorTopology(old, nil) })
	}
	if len(entries) == 0 {
		return fmt.Errorf("memcached: set servers: %w: no servers", tiercache.ErrInvalid)
	}
	specs, err := parseServers(entries)
	if err != nil {
		return fmt.Errorf("memcached: set servers: %w: %v", tiercache.ErrInvalid, err)
	}
	return c.swap(func(old *topology) *topology { return c.ringTopology(old, specs) })
}

// swap installs build(current) and retires the servers it dropped.
func (c *cluster) swap(build func(*topology) *topology) error {
	c.mu.Lock()
	old := c.top.Load()
	nt := build(old)
	c.top.Store(nt)
	c.mu.Unlock()
	for _, s := range old.servers {
		if nt.byAddr[s.spec.addr.String()] != s {
			s.pool.close()
		}
	}
	c.poke()
	return nil
}

// close stops the monitor and its probes, then closes every connection.
func (c *cluster) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.wg.Wait()
		for _, s := range c.top.Load().servers {
			s.pool.close()
		}
	})
}
