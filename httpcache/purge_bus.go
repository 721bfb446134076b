package httpcache

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"

	"github.com/tiercache/tiercache"
)

// BusKindPurge is the Kind of the bus messages of purges (WithBus): Key is
// the store key of the purged generation (PurgeKeyPrefix and the tag hash
// in hex), Data the 17-byte generation record (version 1, generation and
// purge time in Unix ns, little-endian). A Layered sharing the bus ignores
// them.
const BusKindPurge = "purge"

// purgeBus publishes this Transport's purges and applies other processes'.
// It is the Transport's BusSubscriber.
type purgeBus struct {
	p      *purger
	bus    tiercache.Bus
	origin string
	sub    io.Closer

	published, publishErrors, received, up atomic.Int64
}

func newPurgeBus(p *purger, b tiercache.Bus) *purgeBus {
	if b == nil || (reflect.ValueOf(b).Kind() == reflect.Pointer && reflect.ValueOf(b).IsNil()) {
		return nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	pb := &purgeBus{p: p, bus: b, origin: "httpcache-" + hex.EncodeToString(id[:])}
	sub, err := b.Subscribe(pb)
	if err != nil {
		p.fail(nil, "subscribe", BusKindPurge, err)
	}
	pb.sub = sub
	return pb
}

// publish announces a purge; a failure is reported, not returned: the
// purge is in the store, and the max age bounds the delay without the bus.
func (b *purgeBus) publish(ctx context.Context, key string, gen uint64, purgedAt int64) {
	data := make([]byte, genRecordLen)
	data[0] = genRecordV1
	binary.LittleEndian.PutUint64(data[1:], gen)
	binary.LittleEndian.PutUint64(data[9:], uint64(purgedAt))
	err := b.bus.Publish(ctx, tiercache.BusMessage{Origin: b.origin, Kind: BusKindPurge, Key: key, Data: data})
	if err != nil {
		b.publishErrors.Add(1)
		b.p.fail(nil, "publish", key, err)
		return
	}
	b.published.Add(1)
}

// Receive applies another process's purge: the new generation replaces
// this process's copy at once, but is trusted no longer than the copy it
// replaces (a message may be older than a purge whose message was lost).
func (b *purgeBus) Receive(m tiercache.BusMessage) {
	if m.Kind != BusKindPurge || m.Origin == b.origin || len(m.Data) != genRecordLen || m.Data[0] != genRecordV1 {
		return
	}
	h, ok := hashOfKey(m.Key)
	gen := binary.LittleEndian.Uint64(m.Data[1:])
	if !ok || gen == 0 {
		return
	}
	b.received.Add(1)
	p := b.p
	now := p.clock(p.t.opts.now())
	p.states.get(h, now, p.maxAge).set(gen, int64(binary.LittleEndian.Uint64(m.Data[9:])), now, false)
}

// Up records that the subscription is established.
func (b *purgeBus) Up() { b.up.Store(1) }

// Down records a lost subscription and reports it: until it is back, purges
// of other processes arrive through the max age only.
func (b *purgeBus) Down(err error) {
	b.up.Store(0)
	b.p.fail(nil, "subscribe", BusKindPurge, fmt.Errorf("%w: %w", tiercache.ErrBusDown, err))
}

func (b *purgeBus) close() {
	if b != nil && b.sub != nil {
		b.sub.Close()
	}
}
