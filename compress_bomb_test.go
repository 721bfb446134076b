package tiercache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
)

const gib = 1 << 30

// zstdRLEBomb returns a zstd frame with no content size that inflates to n
// bytes (a multiple of 128 KiB) of 'x': RLE blocks of 128 KiB, four bytes
// each, behind a header declaring a 128 KiB window (RFC 8878 §3.1.1).
func zstdRLEBomb(n int) []byte {
	const block = 128 << 10
	b := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
	b = append(b, 0x00, 7<<3) // descriptor: no content size, no checksum; window 2^(10+7)
	for i := block; i <= n; i += block {
		last := 0
		if i == n {
			last = 1
		}
		h := uint32(last) | 1<<1 | uint32(block)<<3 // RLE block of 128 KiB
		b = append(b, byte(h), byte(h>>8), byte(h>>16), 'x')
	}
	return b
}

// gzipBomb returns a gzip stream that inflates to n bytes (a multiple of
// 1 MiB) of zeros: identical members, each 1 MiB, read as one stream.
func gzipBomb(n int) []byte {
	var one bytes.Buffer
	w, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Close()
	return bytes.Repeat(one.Bytes(), n>>20)
}

// s2Bomb returns an s2 block whose header claims n bytes.
func s2Bomb(n int) []byte {
	return append(binary.AppendUvarint(nil, uint64(n)), s2.Encode(nil, make([]byte, 1<<10))[2:]...)
}

// TestCompressBombAllocationBounded (issue 13, item 3): a frame that claims
// 1,000 bytes and inflates to 1 GiB used to allocate ~347 MiB per Get
// (2.7 GiB for 8 concurrent Gets) before ErrTooLarge. Now each Get decodes
// into a buffer of the claimed length and stops there: it costs the claim
// plus a small constant (one 128 KiB block, decoder buffers), far below the
// 64 MiB limit, concurrently too; the entry is a miss, deleted and reported.
func TestCompressBombAllocationBounded(t *testing.T) {
	const claim, slack = 1000, 1 << 20 // bytes per Get
	bombs := []struct {
		name    string
		alg     tiercache.Algorithm
		payload []byte
	}{
		{"zstd", tiercache.Zstd, zstdRLEBomb(gib)},
		{"gzip", tiercache.Gzip, gzipBomb(gib)},
		{"s2", tiercache.S2, s2Bomb(gib)},
	}
	for _, b := range bombs {
		for _, conc := range []int{1, 8} {
			t.Run(fmt.Sprintf("%s/%d-concurrent", b.name, conc), func(t *testing.T) {
				frame := compressFrame(b.alg, 0, claim, 0, b.payload)
				inner := newCompressFake()
				var mu sync.Mutex
				var reported []error
				m := tiercache.Compress(inner, tiercache.WithCompressErrorHook(func(_ string, err error) {
					mu.Lock()
					reported = append(reported, err)
					mu.Unlock()
				}))
				keys := make([]string, conc)
				for i := range keys {
					keys[i] = fmt.Sprint("bomb", i)
					inner.setBody(keys[i], frame)
				}
				_, _, _ = m.Get(context.Background(), "warm-up") // a miss
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				var wg sync.WaitGroup
				for _, key := range keys {
					wg.Go(func() {
						if resp, _, err := m.Get(context.Background(), key); resp != nil || err != nil {
							t.Errorf("Get(%s) = %v, %v; want a miss", key, resp != nil, err)
						}
					})
				}
				wg.Wait()
				runtime.ReadMemStats(&after)
				alloc := after.TotalAlloc - before.TotalAlloc
				t.Logf("%d Gets of a %s bomb (%d-byte frame, claims %d, inflates to 1 GiB): %d bytes allocated",
					conc, b.name, len(frame), claim, alloc)
				if limit := uint64(conc * (claim + slack)); alloc > limit {
					t.Errorf("allocated %d bytes, want at most %d (claim + %d per Get)", alloc, limit, slack)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, err := range reported {
					if !errors.Is(err, tiercache.ErrCorrupt) {
						t.Errorf("reported %v, want ErrCorrupt (the payload does not match its claim)", err)
					}
				}
				if len(reported) != conc {
					t.Errorf("%d errors reported, want %d", len(reported), conc)
				}
				for _, key := range keys {
					if resp, _, _ := inner.Get(context.Background(), key); resp != nil {
						t.Errorf("the damaged entry %s was kept", key)
					}
				}
			})
		}
	}
}

// TestCompressBomb: a frame that claims more than the decoded-size limit is
// refused before decoding (ErrTooLarge, kept for a reader with a higher
// limit); one that claims less but inflates past its claim is damaged
// (ErrCorrupt); both are misses. Within the limit the same payloads decode.
func TestCompressBomb(t *testing.T) {
	const limit = 64 << 10
	zeros := make([]byte, 1<<20)
	zenc, _ := zstd.NewWriter(nil)
	var stream bytes.Buffer // a zstd frame without a content size
	zw, _ := zstd.NewWriter(&stream)
	_, _ = zw.Write(zeros)
	_ = zw.Close()
	payloads := []struct {
		name    string
		alg     tiercache.Algorithm
		payload []byte
	}{
		{"zstd", tiercache.Zstd, zenc.EncodeAll(zeros, nil)},
		{"zstd-stream", tiercache.Zstd, stream.Bytes()},
		{"s2", tiercache.S2, s2.Encode(nil, zeros)},
		{"gzip", tiercache.Gzip, gzipBomb(len(zeros))},
	}
	for _, p := range payloads {
		for _, claim := range []int{100, limit, limit + 1, len(zeros)} {
			t.Run(fmt.Sprintf("%s/claims-%d", p.name, claim), func(t *testing.T) {
				f := compressFrame(p.alg, 0, claim, compressCRC(zeros[:min(claim, len(zeros))]), p.payload)
				resp, err := compressGetRaw(f, tiercache.WithMaxDecodedSize(limit))
				want := tiercache.ErrCorrupt
				if claim > limit {
					want = tiercache.ErrTooLarge
				}
				if resp != nil || !errors.Is(err, want) {
					t.Fatalf("Get = %v, reported %v; want a miss reporting %v", resp != nil, err, want)
				}
			})
		}
		t.Run(p.name+"/within-limit", func(t *testing.T) {
			f := compressFrame(p.alg, 0, len(zeros), compressCRC(zeros), p.payload)
			if got, err := compressGetRaw(f, tiercache.WithMaxDecodedSize(16<<20)); err != nil || !bytes.Equal(got.Body, zeros) {
				t.Fatalf("Get under a 16 MiB limit: %v", err)
			}
		})
	}
}
