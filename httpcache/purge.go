package httpcache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/singleflight"
)

// Purging by tag and by URL (WithPurge).
//
// Every tag has a generation, a random 64-bit number kept in the purge
// store (the authority of the cache's Layered, or WithPurgeStore) under
// the key PurgeKeyPrefix + the tag's hash in hex. A URL is purged through
// the generation of its bucket (one of 1024; see tags.go). PurgeTag writes
// a new generation: one Put, whatever the number of tagged entries.
//
// Each stored response records, in its policy (extension record
// tiercache.ExtensionPurge: version byte 1, then per tag the hash and the
// generation, 8 bytes little-endian each, its URL bucket first), the
// generations current when it was stored. A lookup serves it only while
// every one of them is still current. Each process keeps a copy of the
// generations it uses (stateTable) and reads one again from the store when
// its copy is older than the max age (WithPurgeMaxAge): a hit costs a
// lock-free table lookup per tag, and at most one small read of the store
// per tag per max age. A missing or unreadable generation is never taken as
// current: a lost record (evicted, expired) gets a new generation, which
// invalidates its entries, and a failed read makes them misses until the
// store answers (fail-safe).
//
// The guarantee. Let PurgeTag(T) (or PurgeURL) return nil at time t.
//   - In the process that purged: no lookup that starts after t serves an
//     entry with T stored before the purge.
//   - In any other process sharing the purge store: no lookup serves such
//     an entry after t + max age (a copy is used for at most max age after
//     the read that fetched it started, measured on that process's own
//     monotonic clock, so clock differences between processes do not
//     matter). With WithBus, usually within the bus latency instead.
//   - Responses in flight: a response whose request to the origin was sent
//     before a purge of one of its tags is not stored (Refusals.Purged)
//     when the process learns of the purge before storing it: exactly when
//     it saw the generation change, and by the purger's wall clock when it
//     sees the tag for the first time (clock skew applies only there).
//     Learning of it later makes the stored entry unusable at the next
//     read of the generation instead.
//
// Entries stored without WithPurge (or before it) carry no generations and
// are never purged by generation; PurgeURL still deletes them.

// PurgeKeyPrefix starts the keys of the generations in the purge store.
const PurgeKeyPrefix = "tiercache purge "

// ErrPurgeDisabled is returned by PurgeTag on a Transport or Middleware
// built without WithPurge.
var ErrPurgeDisabled = errors.New("httpcache: purge by tag needs WithPurge(true)")

// Layouts of the purge records.
const (
	purgeRecordV1  = 1  // version byte of the ExtensionPurge record
	purgeEntryLen  = 16 // hash and generation per tag
	genRecordV1    = 1  // version byte of a generation in the store
	genRecordLen   = 17 // version, generation, purge time (Unix ns)
	purgeKeyHexLen = 16
)

// purger holds a Transport's purge state.
type purger struct {
	t      *Transport
	store  tiercache.Manager
	maxAge time.Duration
	base   time.Time // origin of the process clock (monotonic with time.Now)
	states stateTable
	reads  singleflight.Group[*genValue]
	bus    *purgeBus

	purges, purged, storeReads, storeErrors atomic.Uint64
}

func newPurger(t *Transport, m tiercache.Manager) *purger {
	p := &purger{t: t, store: t.opts.purgeStore, maxAge: t.opts.purgeMaxAge, base: t.opts.now()}
	if p.store == nil {
		p.store = authorityOf(m)
	}
	if p.maxAge == 0 {
		p.maxAge = DefaultPurgeMaxAge
	}
	return p
}

// authorityOf returns the last tier of a Layered (or of anything that
// exposes its tiers the same way), else m.
func authorityOf(m tiercache.Manager) tiercache.Manager {
	if l, ok := m.(interface {
		Tiers() int
		Tier(int) tiercache.Manager
	}); ok && l.Tiers() > 0 {
		return l.Tier(l.Tiers() - 1)
	}
	return m
}

// clock returns now on the process clock.
func (p *purger) clock(now time.Time) time.Duration { return now.Sub(p.base) }

// purgeKey returns the store key of the generation of tag hash h.
func purgeKey(h uint64) string {
	var b [purgeKeyHexLen]byte
	s := strconv.AppendUint(b[:0], h, 16)
	pad := "0000000000000000"[:purgeKeyHexLen-len(s)]
	return PurgeKeyPrefix + pad + string(s)
}

// hashOfKey is the inverse of purgeKey.
func hashOfKey(key string) (uint64, bool) {
	if len(key) != len(PurgeKeyPrefix)+purgeKeyHexLen || key[:len(PurgeKeyPrefix)] != PurgeKeyPrefix {
		return 0, false
	}
	h, err := strconv.ParseUint(key[len(PurgeKeyPrefix):], 16, 64)
	return h, err == nil
}

// purgeCheck is what a lookup learns of an entry's generations.
type purgeCheck uint8

const (
	checkCurrent purgeCheck = iota // all current (or none recorded)
	checkPurged                    // one is no longer current, or the record is malformed
	checkUnknown                   // one could not be read from the purge store
)

// check compares the generations recorded in pol with the current ones at
// now, for req (nil outside a request). It does not allocate unless a
// generation must be read.
func (p *purger) check(req *http.Request, pol *tiercache.Policy, now time.Time) purgeCheck {
	rec := pol.Extension(tiercache.ExtensionPurge)
	if rec == nil {
		return checkCurrent
	}
	if rec[0] != purgeRecordV1 || (len(rec)-1)%purgeEntryLen != 0 {
		return checkPurged
	}
	at := p.clock(now)
	for i := 1; i < len(rec); i += purgeEntryLen {
		v := p.current(req, binary.LittleEndian.Uint64(rec[i:]), at)
		switch {
		case v.gen == 0:
			return checkUnknown
		case v.gen != binary.LittleEndian.Uint64(rec[i+8:]):
			return checkPurged
		}
	}
	return checkCurrent
}

// current returns the generation of tag hash h, reading it from the store
// when this process's copy is older than the max age. The read runs with
// req's values but not its cancellation: it is shared by concurrent
// lookups, and a failed one counts for a max age.
func (p *purger) current(req *http.Request, h uint64, at time.Duration) *genValue {
	s := p.states.get(h, at, p.maxAge)
	if v := s.load(); v != nil && at-v.checked < p.maxAge {
		return v
	}
	ctx := context.Background()
	if req != nil {
		ctx = context.WithoutCancel(req.Context())
	}
	v, err, _ := p.reads.Do(ctx, purgeKey(h), func() (*genValue, error) { return p.read(ctx, req, h, s), nil })
	if err != nil || v == nil { // the context ended while another read runs
		return &genValue{}
	}
	return v
}

// read reads the generation of h from the store and installs it in s. A
// missing (or malformed) record gets a new generation, written back; a
// failed read installs generation 0 (unknown) for a max age.
func (p *purger) read(ctx context.Context, req *http.Request, h uint64, s *tagState) *genValue {
	p.storeReads.Add(1)
	ver, start := s.version(), p.clock(p.t.opts.now())
	key := purgeKey(h)
	resp, _, err := p.store.Get(ctx, key)
	if err != nil {
		p.fail(req, "get", key, err)
		return s.apply(0, 0, start, p.clock(p.t.opts.now()), ver)
	}
	gen, purgedAt, ok := decodeGen(resp)
	if !ok {
		gen, purgedAt = newGeneration(), 0 // nothing was purged: no in-flight rule
		if err := p.write(ctx, key, gen, purgedAt); err != nil {
			p.fail(req, "put", key, err)
			gen = 0
		}
	}
	return s.apply(gen, purgedAt, start, p.clock(p.t.opts.now()), ver)
}

// fail counts and reports an error of the purge store for req.
func (p *purger) fail(req *http.Request, op, key string, err error) {
	p.storeErrors.Add(1)
	p.t.report(req, op, key, err)
}

// write stores generation gen of the record under key.
func (p *purger) write(ctx context.Context, key string, gen uint64, purgedAt int64) error {
	body := make([]byte, genRecordLen)
	body[0] = genRecordV1
	binary.LittleEndian.PutUint64(body[1:], gen)
	binary.LittleEndian.PutUint64(body[9:], uint64(purgedAt))
	resp := &tiercache.Response{Status: http.StatusOK, Header: http.Header{}, Body: body}
	pol := tiercache.NewTTLPolicy(tiercache.DefaultMaxTTL, tiercache.WithNow(p.t.opts.now()))
	_, err := p.store.Put(ctx, key, resp, pol)
	return err
}

// decodeGen reads a generation record.
func decodeGen(resp *tiercache.Response) (gen uint64, purgedAt int64, ok bool) {
	if resp == nil || len(resp.Body) != genRecordLen || resp.Body[0] != genRecordV1 {
		return 0, 0, false
	}
	gen = binary.LittleEndian.Uint64(resp.Body[1:])
	return gen, int64(binary.LittleEndian.Uint64(resp.Body[9:])), gen != 0
}

// newGeneration returns a random non-zero generation.
func newGeneration() uint64 { return rand.Uint64() | 1 }

// purge gives tag hash h a new generation in the store and in this
// process, and announces it on the bus.
func (p *purger) purge(ctx context.Context, h uint64) error {
	key := purgeKey(h)
	gen, now := newGeneration(), p.t.opts.now()
	if err := p.write(ctx, key, gen, now.UnixNano()); err != nil {
		return fmt.Errorf("%w: purge %s: %w", ErrCache, key, err)
	}
	p.purges.Add(1)
	p.states.get(h, p.clock(now), p.maxAge).set(gen, now.UnixNano(), p.clock(p.t.opts.now()), true)
	if p.bus != nil {
		p.bus.publish(ctx, key, gen, now.UnixNano())
	}
	return nil
}

// record returns the ExtensionPurge record of a response with header h
// stored under the primary key key, for a request sent at sent, and the
// refusal when it must not be stored: too many tags, a generation that
// cannot be read, or a purge of one of its tags since the request was sent.
func (p *purger) record(req *http.Request, h http.Header, key string, sent time.Time) ([]byte, refusal, bool) {
	var buf [1 + 8]uint64
	hashes, ok := appendTags(append(buf[:0], urlBucketHash(key)), h, p.t.opts.tagHeaders)
	if !ok {
		return nil, refTags, false
	}
	rec := make([]byte, 1, 1+purgeEntryLen*len(hashes))
	rec[0] = purgeRecordV1
	at, sentAt := p.clock(p.t.opts.now()), p.clock(sent)
	for _, hh := range hashes {
		v := p.current(req, hh, at)
		switch {
		case v.gen == 0:
			return nil, refErrors, false
		case v.since > sentAt || v.purgedAt > sent.UnixNano():
			return nil, refPurged, false
		}
		rec = binary.LittleEndian.AppendUint64(rec, hh)
		rec = binary.LittleEndian.AppendUint64(rec, v.gen)
	}
	return rec, 0, true
}
