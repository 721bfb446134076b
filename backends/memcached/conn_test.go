package memcached

import (
	"context"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
)

// TestLateAbortDoesNotTouchNextCall runs a slot's abort after its call
// ended (context.AfterFunc's stop does not wait for a running f): the
// next call on the slot must keep its own deadline and succeed.
func TestLateAbortDoesNotTouchNextCall(t *testing.T) {
	srv := memcachedtest.Start(t)
	spec, err := parseServer(srv.Addr)
	mustDo(t, err)
	sl := newSlot(spec.addr, testTimeout)
	defer sl.close()
	ping := func(ctx context.Context) error {
		sl.begin(ctx)
		defer sl.end()
		return sl.client.Ping()
	}

	ctx1, cancel1 := context.WithCancel(bg)
	mustDo(t, ping(ctx1))
	cancel1()
	sl.abort() // late, after end: nothing to abort
	mustDo(t, ping(bg))

	ctx2, cancel2 := context.WithTimeout(bg, time.Hour)
	defer cancel2()
	sl.begin(ctx2)
	sl.abort() // late abort of ctx1 during the call under ctx2
	err = sl.client.Set(&memcache.Item{Key: "k", Value: []byte("v")})
	sl.end()
	if err != nil {
		t.Fatalf("call after a late abort: %v", err)
	}
}
