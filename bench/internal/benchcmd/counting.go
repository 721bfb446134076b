package benchcmd

import (
	"context"
	"sync/atomic"

	"github.com/tiercache/tiercache"
)

// counting is a tiercache.Manager decorator that counts the calls reaching a
// lower tier and the body bytes moved to and from it. Placed under Compress,
// it sees (and counts) compressed bodies. Safe for concurrent use.
type counting struct {
	next tiercache.Manager
	c    tierCounters
}

var _ tiercache.Manager = (*counting)(nil)

// tierCounters are the live counters of a counting decorator.
type tierCounters struct {
	gets, hits, puts, deletes, errors atomic.Int64
	bytesWritten, bytesRead           atomic.Int64
}

// tierCounts is a by-value snapshot of tierCounters.
type tierCounts struct {
	Gets, Hits, Puts, Deletes, Errors int64
	BytesWritten, BytesRead           int64
}

func (c *counting) snapshot() tierCounts {
	return tierCounts{
		Gets: c.c.gets.Load(), Hits: c.c.hits.Load(), Puts: c.c.puts.Load(),
		Deletes: c.c.deletes.Load(), Errors: c.c.errors.Load(),
		BytesWritten: c.c.bytesWritten.Load(), BytesRead: c.c.bytesRead.Load(),
	}
}

func (a tierCounts) sub(b tierCounts) tierCounts {
	return tierCounts{
		Gets: a.Gets - b.Gets, Hits: a.Hits - b.Hits, Puts: a.Puts - b.Puts,
		Deletes: a.Deletes - b.Deletes, Errors: a.Errors - b.Errors,
		BytesWritten: a.BytesWritten - b.BytesWritten, BytesRead: a.BytesRead - b.BytesRead,
	}
}

// Get counts the lookup, a hit and the body bytes read.
func (c *counting) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	resp, pol, err := c.next.Get(ctx, key)
	c.c.gets.Add(1)
	switch {
	case err != nil:
		c.c.errors.Add(1)
	case resp != nil:
		c.c.hits.Add(1)
		c.c.bytesRead.Add(int64(len(resp.Body)))
	}
	return resp, pol, err
}

// Put counts the call and the body bytes written.
func (c *counting) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	c.c.puts.Add(1)
	if resp != nil {
		c.c.bytesWritten.Add(int64(len(resp.Body)))
	}
	got, err := c.next.Put(ctx, key, resp, pol)
	if err != nil {
		c.c.errors.Add(1)
	}
	return got, err
}

// Delete counts the call.
func (c *counting) Delete(ctx context.Context, key string) error {
	c.c.deletes.Add(1)
	err := c.next.Delete(ctx, key)
	if err != nil {
		c.c.errors.Add(1)
	}
	return err
}
