package memcached

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache"
)

// Chunked values. A value larger than the item limit is written as chunks
// under fresh keys (see chunkKey), each an item with flagChunk and the
// value's expiration, and then a manifest under the value's own key, an
// item with flagManifest:
//
//	offset size field
//	0      4    magic "tcMC"
//	4      1    version (1)
//	5      16   generation id: random, new for every Set
//	21     8    total value length, uint64 big-endian
//	29     4    chunk size, uint32 big-endian (every chunk but the last)
//	33     4    CRC-32C (Castagnoli) of the whole value
//	37     4    CRC-32C of bytes 0..36 (the manifest itself)
//
// The manifest is written last, so a reader never sees a manifest whose
// chunks were not all written; the generation id keeps two concurrent Sets
// of one key from mixing their chunks. A reader fetches the chunks with
// GetMulti, checks every length and the checksum, and returns the value
// whole; a missing chunk (evicted) is a miss, a failed check is a miss that
// is reported; both delete the manifest, unless a newer Set has replaced it
// meanwhile (checked by CAS), and leave the chunks to expire.
//
// The chunks and the manifest of a value are all written to the same
// server (each replica gets a whole copy), and a reader fetches the chunks
// from the server it read the manifest from: whatever the ring does
// (ejections, SetServers), a value is read whole from one server or not
// at all.
const (
	manifestMagic   = "tcMC"
	manifestVersion = 1
	manifestLen     = 41
	genLen          = 16
	// itemOverhead is what memcached needs in an item beyond the value
	// (item header, key of up to 250 bytes, suffix); measured on 1.6 with
	// -I 1m, rounded up.
	itemOverhead = 512
	// minChunkSize bounds the chunk count of a manifest read back.
	minChunkSize = 1024
	// getBatch is how many chunk keys one GetMulti asks for, keeping
	// command lines short.
	getBatch = 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// manifest describes a chunked value.
type manifest struct {
	gen       [genLen]byte
	total     int
	chunkSize int
	sum       uint32
}

// count returns the number of chunks.
func (m manifest) count() int { return (m.total + m.chunkSize - 1) / m.chunkSize }

// chunkLen returns the length of chunk i.
func (m manifest) chunkLen(i int) int { return min(m.chunkSize, m.total-i*m.chunkSize) }

func (m manifest) marshal() []byte {
	b := make([]byte, 0, manifestLen)
	b = append(b, manifestMagic...)
	b = append(b, manifestVersion)
	b = append(b, m.gen[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.total))
	b = binary.BigEndian.AppendUint32(b, uint32(m.chunkSize))
	b = binary.BigEndian.AppendUint32(b, m.sum)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// parseManifest decodes and validates a manifest; values above maxValue
// are refused so that a damaged manifest never causes a huge allocation.
func parseManifest(b []byte, maxValue int) (manifest, error) {
	var m manifest
	switch {
	case len(b) != manifestLen || string(b[:4]) != manifestMagic:
		return m, fmt.Errorf("memcached: %w: bad chunk manifest (%d bytes)", tiercache.ErrCorrupt, len(b))
	case b[4] != manifestVersion:
		return m, fmt.Errorf("memcached: %w: chunk manifest version %d", tiercache.ErrVersion, b[4])
	case crc32.Checksum(b[:37], castagnoli) != binary.BigEndian.Uint32(b[37:]):
		return m, fmt.Errorf("memcached: %w: chunk manifest checksum mismatch", tiercache.ErrCorrupt)
	}
	copy(m.gen[:], b[5:21])
	total := binary.BigEndian.Uint64(b[21:])
	m.chunkSize = int(binary.BigEndian.Uint32(b[29:]))
	m.sum = binary.BigEndian.Uint32(b[33:])
	switch {
	case total > uint64(maxValue):
		return m, fmt.Errorf("memcached: %w: chunked value of %d bytes, limit %d", tiercache.ErrTooLarge, total, maxValue)
	case m.chunkSize < minChunkSize:
		return m, fmt.Errorf("memcached: %w: chunk size %d", tiercache.ErrCorrupt, m.chunkSize)
	}
	m.total = int(total)
	return m, nil
}

// chunkKeys returns the keys of m's chunks from..to-1.
func (s *Store) chunkKeys(m manifest, from, to int) []string {
	keys := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		keys = append(keys, chunkKey(s.prefix, m.gen, i))
	}
	return keys
}

// storeChunks writes value as chunks and then its manifest under ik, all on
// srv (so that the server that holds the manifest holds its chunks, across
// ejections and replicas). It stops before the manifest when ctx ends,
// leaving the previous entry in place; chunks already written expire
// unread.
func (s *Store) storeChunks(ctx context.Context, srv *server, fallback bool, ik string, value []byte, exp int32) error {
	m := manifest{total: len(value), chunkSize: s.chunkSize, sum: crc32.Checksum(value, castagnoli)}
	_, _ = rand.Read(m.gen[:]) // never fails (crypto/rand)
	for i := range m.count() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memcached: set on %s: %w", srv.spec.name, err)
		}
		off := i * m.chunkSize
		chunk := value[off : off+m.chunkLen(i)]
		it := &memcache.Item{Key: chunkKey(s.prefix, m.gen, i), Value: chunk, Flags: flagChunk, Expiration: exp}
		if err := s.put(ctx, srv, fallback, it); err != nil {
			return err
		}
	}
	return s.put(ctx, srv, fallback, &memcache.Item{Key: ik, Value: m.marshal(), Flags: flagManifest, Expiration: exp})
}

// loadChunks reads from srv the value described by the manifest item mi.
// The chunk keys are built one batch at a time, so that a forged manifest
// announcing a huge number of chunks costs one batch when its chunks are
// missing.
func (s *Store) loadChunks(ctx context.Context, srv *server, fallback bool, key string, mi *memcache.Item) ([]byte, error) {
	m, err := parseManifest(mi.Value, s.maxValueSize)
	if err != nil {
		s.discard(ctx, srv, fallback, key, mi, err)
		return nil, nil
	}
	var value []byte // allocated once the first batch is complete
	for start := 0; start < m.count(); start += getBatch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("memcached: get chunks on %s: %w", srv.spec.name, err)
		}
		batch := s.chunkKeys(m, start, min(start+getBatch, m.count()))
		var got map[string]*memcache.Item
		err := s.call(ctx, srv, fallback, func(c *memcache.Client) (err error) { got, err = c.GetMulti(batch); return err })
		if err != nil {
			return nil, s.opError(ctx, "get chunks", srv, err)
		}
		if len(got) < len(batch) {
			s.discard(ctx, srv, fallback, key, mi, nil) // evicted: a plain miss
			return nil, nil
		}
		if value == nil {
			value = make([]byte, 0, m.total)
		}
		if value, err = appendChunks(value, m, start, batch, got); err != nil {
			s.discard(ctx, srv, fallback, key, mi, err)
			return nil, nil
		}
	}
	if sum := crc32.Checksum(value, castagnoli); sum != m.sum {
		s.discard(ctx, srv, fallback, key, mi, fmt.Errorf("memcached: %w: chunked value checksum %08x, want %08x", tiercache.ErrCorrupt, sum, m.sum))
		return nil, nil
	}
	return value, nil
}

// appendChunks appends the chunks start.. of a batch to value, checking
// their flags and lengths.
func appendChunks(value []byte, m manifest, start int, keys []string, items map[string]*memcache.Item) ([]byte, error) {
	for j, k := range keys {
		i := start + j
		it := items[k]
		if it.Flags != flagChunk || len(it.Value) != m.chunkLen(i) {
			return nil, fmt.Errorf("memcached: %w: chunk %d of %d: %d bytes, flags %#x", tiercache.ErrCorrupt, i, m.count(), len(it.Value), it.Flags)
		}
		value = append(value, it.Value...)
	}
	return value, nil
}

// discard removes a damaged or incomplete entry, the item it that Get read
// from srv, and reports cause, when not nil, joined with any delete error.
// it is removed only while it is unchanged (a CAS that expires it at once):
// a Set that replaced it since keeps its value. The chunks are not deleted:
// unreachable once the manifest is gone, they leave by expiry or LRU
// eviction (deleting them would cost a round trip each).
func (s *Store) discard(ctx context.Context, srv *server, fallback bool, key string, it *memcache.Item, cause error) {
	err := s.expireIfUnchanged(ctx, srv, fallback, it)
	if cause != nil {
		if err != nil {
			cause = errors.Join(cause, fmt.Errorf("memcached: delete damaged entry: %w", err))
		}
		s.report(key, cause)
	}
}

// expireIfUnchanged replaces it, as read by Get (with its CAS id), by an
// empty item that has already expired (memcached reads a negative
// expiration so), unless another write changed it meanwhile. An item that
// is gone or was changed is not an error.
func (s *Store) expireIfUnchanged(ctx context.Context, srv *server, fallback bool, it *memcache.Item) error {
	gone := &memcache.Item{Key: it.Key, Flags: it.Flags, Expiration: -1, CasID: it.CasID}
	err := s.call(ctx, srv, fallback, func(c *memcache.Client) error { return c.CompareAndSwap(gone) })
	switch {
	case err == nil, errors.Is(err, memcache.ErrCASConflict), errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
		return nil
	}
	return s.opError(ctx, "delete damaged entry", srv, err)
}
