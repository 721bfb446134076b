package memcached

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// Connections and contexts. gomemcache has no context support: it sets a
// deadline of now+Timeout on its connection before each request and each
// read. To honour a caller's context as well, each connection is owned by a
// slot, a gomemcache Client for one server that one call at a time checks
// out of the server's pool. While a call holds the slot:
//
//   - every deadline gomemcache sets on the connection is clamped to the
//     context's deadline (deadlineConn.SetDeadline), and
//   - if the context is cancelled, the connection's deadline is moved to the
//     past (slot.abort), which fails the pending read or write at once.
//
// A request cut short this way fails with a timeout error, and gomemcache
// closes the connection rather than reuse it mid-reply. Nothing runs on in
// the background after the call returns: a late write can never overwrite a
// newer value. A write whose bytes had all reached the server before the
// deadline may still be applied by it.

// slot is a gomemcache Client with at most one connection, used by one call
// at a time.
type slot struct {
	client *memcache.Client
	abortF func() // slot.abort, bound once so that AfterFunc does not allocate it

	// Owned by the call that holds the slot.
	dialed bool        // a connection was dialed during the call
	stop   func() bool // stops the context.AfterFunc of the call, if any

	mu   sync.Mutex
	ctx  context.Context // the call's context, nil when it has no Done channel
	cap  time.Time       // latest deadline allowed, zero for none
	conn *deadlineConn   // the open connection, nil before a dial
}

// newSlot returns a slot for addr with gomemcache's socket timeout.
func newSlot(addr net.Addr, timeout time.Duration) *slot {
	sl := &slot{}
	sl.abortF = sl.abort
	sl.client = memcache.NewFromSelector(oneServer{addr})
	sl.client.Timeout = timeout
	sl.client.MaxIdleConns = 1
	sl.client.DialContext = sl.dial
	return sl
}

// begin binds the slot to the call's context. A context that can never end
// (context.Background) costs nothing; others cost a context.AfterFunc.
func (sl *slot) begin(ctx context.Context) {
	sl.dialed = false
	if ctx.Done() == nil {
		return
	}
	d, _ := ctx.Deadline()
	sl.mu.Lock()
	sl.ctx, sl.cap = ctx, d
	sl.mu.Unlock()
	sl.stop = context.AfterFunc(ctx, sl.abortF)
}

// end unbinds the slot from the call's context.
func (sl *slot) end() {
	if sl.stop == nil {
		return
	}
	sl.stop()
	sl.stop = nil
	sl.mu.Lock()
	sl.ctx, sl.cap = nil, time.Time{}
	sl.mu.Unlock()
}

// abort fails the pending I/O of the call: the context has ended. It may
// run late, after end (context.AfterFunc's stop does not wait for it): it
// does nothing unless the slot's current context has ended, so that a late
// abort never touches the next call.
func (sl *slot) abort() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.ctx == nil || sl.ctx.Err() == nil {
		return
	}
	sl.cap = time.Unix(1, 0)
	if sl.conn != nil {
		_ = sl.conn.Conn.SetDeadline(sl.cap)
	}
}

// dial is the Client's DialContext: gomemcache's ctx carries Timeout, and
// the call's context (if any) cancels the dial too.
func (sl *slot) dial(ctx context.Context, network, address string) (net.Conn, error) {
	sl.mu.Lock()
	callCtx := sl.ctx
	sl.mu.Unlock()
	if callCtx != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(callCtx, cancel)()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	dc := &deadlineConn{Conn: nc, sl: sl}
	sl.mu.Lock()
	sl.conn, sl.dialed = dc, true
	sl.mu.Unlock()
	return dc, nil
}

// close closes the slot's connection, if any.
func (sl *slot) close() { _ = sl.client.Close() }

// deadlineConn clamps the deadlines gomemcache sets to its slot's cap.
type deadlineConn struct {
	net.Conn
	sl *slot
}

func (c *deadlineConn) clamp(t time.Time, set func(time.Time) error) error {
	c.sl.mu.Lock()
	defer c.sl.mu.Unlock()
	if cp := c.sl.cap; !cp.IsZero() && (t.IsZero() || cp.Before(t)) {
		t = cp
	}
	return set(t)
}

func (c *deadlineConn) SetDeadline(t time.Time) error { return c.clamp(t, c.Conn.SetDeadline) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.clamp(t, c.Conn.SetReadDeadline)
}
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.clamp(t, c.Conn.SetWriteDeadline)
}

// Close closes the connection and forgets it.
func (c *deadlineConn) Close() error {
	c.sl.mu.Lock()
	if c.sl.conn == c {
		c.sl.conn = nil
	}
	c.sl.mu.Unlock()
	return c.Conn.Close()
}

// oneServer is a memcache.ServerSelector for a single address.
type oneServer struct{ addr net.Addr }

func (s oneServer) PickServer(string) (net.Addr, error) { return s.addr, nil }
func (s oneServer) Each(f func(net.Addr) error) error   { return f(s.addr) }

// slotPool keeps the idle slots of one server, most recently used first.
type slotPool struct {
	addr    net.Addr
	timeout time.Duration
	max     int

	mu     sync.Mutex
	idle   []*slot
	closed bool
}

// get returns an idle slot or a new one.
func (p *slotPool) get() *slot {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		sl := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return sl
	}
	p.mu.Unlock()
	return newSlot(p.addr, p.timeout)
}

// put returns a slot to the pool; a full or closed pool closes it.
func (p *slotPool) put(sl *slot) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.max {
		p.idle = append(p.idle, sl)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	sl.close()
}

// close closes the idle slots; slots returned later are closed too.
func (p *slotPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, sl := range idle {
		sl.close()
	}
}
