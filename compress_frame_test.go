package tiercache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// compressFrame writes a version 1 frame from the layout documented in
// compress_frame.go, independently of the package's own writer.
func compressFrame(alg tiercache.Algorithm, dictID uint32, length int, bodyCRC uint32, payload []byte) []byte {
	h := make([]byte, 24, 24+len(payload))
	copy(h, "\xf5TCZ")
	h[4], h[5] = 1, byte(alg)
	binary.LittleEndian.PutUint32(h[8:], dictID)
	binary.LittleEndian.PutUint32(h[12:], uint32(length))
	binary.LittleEndian.PutUint32(h[16:], bodyCRC)
	binary.LittleEndian.PutUint32(h[20:], crc32.Checksum(h[:20], crc32.MakeTable(crc32.Castagnoli)))
	return append(h, payload...)
}

func compressCRC(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// compressGetRaw stores body raw in a fake under Compress(opts) and returns
// what Get returned and the error it reported to the hook for an entry it
// could not decode (Get itself must return a miss then, never an error).
func compressGetRaw(body []byte, opts ...tiercache.CompressOption) (*tiercache.Response, error) {
	inner := newCompressFake()
	inner.setBody("k", body)
	var reported error
	opts = append(opts, tiercache.WithCompressErrorHook(func(_ string, err error) { reported = err }))
	resp, _, err := tiercache.Compress(inner, opts...).Get(context.Background(), "k")
	switch {
	case err != nil:
		return nil, fmt.Errorf("Get returned an error (%v), want a miss reported through the hook", err)
	case reported != nil && resp != nil:
		return nil, fmt.Errorf("Get returned a hit and reported %v", reported)
	}
	return resp, reported
}

func TestCompressFrameLayout(t *testing.T) {
	body := compressSpec()[:3000]
	frame := compressFrame(0, 0, len(body), compressCRC(body), body) // a stored frame
	got, err := compressGetRaw(frame)
	if err != nil || got == nil || !bytes.Equal(got.Body, body) {
		t.Fatalf("stored frame built from the documented layout: err %v", err)
	}
	inner := newCompressFake()
	tiercachetest.MustPut(t, tiercache.Compress(inner), "k", compressPage(body), compressTTL())
	written := inner.stored(t, "k")
	if want := compressFrame(tiercache.Zstd, 0, len(body), compressCRC(body), written[24:]); !bytes.Equal(written[:24], want[:24]) {
		t.Fatalf("header %x, want %x", written[:24], want[:24])
	}
}

// TestCompressDamage flips bytes in every region of frames of each algorithm:
// Get must give an error or a miss, never a wrong body.
func TestCompressDamage(t *testing.T) {
	page := compressSpec()
	for _, a := range compressAlgorithms {
		for _, body := range [][]byte{page, page[:4096]} {
			t.Run(fmt.Sprintf("%s/%d", a.name, len(body)), func(t *testing.T) {
				inner := newCompressFake()
				m := tiercache.Compress(inner, a.opts...)
				tiercachetest.MustPut(t, m, "k", compressPage(body), compressTTL())
				frame := inner.stored(t, "k")
				check := func(what string, stored []byte) {
					t.Helper()
					inner.setBody("bad", stored)
					compressCheckDamaged(t, m, what, body)
				}
				masks := []byte{0x01, 0x80, 0xff}
				for i, off := range compressDamageOffsets(len(frame)) {
					for j, mask := range masks {
						if off >= 64 && i%len(masks) != j {
							continue // one mask per payload offset, to stay fast under -race
						}
						bad := bytes.Clone(frame)
						bad[off] ^= mask
						check(fmt.Sprintf("byte %d ^ %#x", off, mask), bad)
					}
				}
				for _, n := range []int{1, 3, 4, 23, 24, 25, len(frame) / 2, len(frame) - 1} {
					check(fmt.Sprintf("truncated to %d", n), frame[:n])
				}
				check("trailing byte", append(bytes.Clone(frame), 0))
			})
		}
	}
}

// compressDamageOffsets returns every header offset (magic, version, algorithm,
// flags, dictionary, length, checksums) and payload offsets at its start,
// middle and end; every offset of a short frame.
func compressDamageOffsets(n int) []int {
	var offs []int
	for i := range n {
		if i < 24+8 || n < 2000 || i >= n-8 || (i >= n/2 && i < n/2+8) || i%16381 == 0 {
			offs = append(offs, i)
		}
	}
	return offs
}

func compressCheckDamaged(t *testing.T, m tiercache.Manager, what string, want []byte) {
	t.Helper()
	got, _, err := m.Get(context.Background(), "bad")
	if err != nil {
		t.Fatalf("%s: Get error %v, want a miss", what, err)
	}
	if got != nil && !bytes.Equal(got.Body, want) {
		t.Fatalf("%s: Get served %d wrong bytes", what, len(got.Body))
	}
}

func TestCompressVersionAndFlags(t *testing.T) {
	body := []byte("stored body")
	cases := map[string]func(f []byte){
		"version":   func(f []byte) { f[4] = 2 },
		"flags":     func(f []byte) { f[6] = 1 },
		"algorithm": func(f []byte) { f[5] = 9 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := compressFrame(0, 0, len(body), compressCRC(body), body)
			mutate(f)
			binary.LittleEndian.PutUint32(f[20:], compressCRC(f[:20])) // a well-formed header of a newer writer
			if _, err := compressGetRaw(f); !errors.Is(err, tiercache.ErrVersion) {
				t.Fatalf("error = %v, want ErrVersion", err)
			}
		})
	}
}

func TestCompressDictionary(t *testing.T) {
	page := compressSpec()
	dictA, dictB := page[:32<<10], page[len(page)-32<<10:]
	body := page[100<<10 : 102<<10]
	inner := newCompressFake()
	writer := tiercache.Compress(inner, tiercache.WithDictionary(dictA))
	want := compressPage(body)
	tiercachetest.MustPut(t, writer, "k", want, compressTTL())
	withDict := len(inner.stored(t, "k"))
	tiercachetest.MustPut(t, tiercache.Compress(inner), "plain", want, compressTTL())
	t.Logf("2 KiB body: %d bytes with a 32 KiB raw dictionary, %d without", withDict, len(inner.stored(t, "plain")))

	tiercachetest.MustGet(t, tiercache.Compress(inner, tiercache.WithDictionary(dictA), tiercache.WithAlgorithm(tiercache.S2)), "k", want)
	tiercachetest.MustGet(t, tiercache.Compress(inner, tiercache.WithDictionary(dictB)), "plain", want) // no dictionary needed
	for name, opts := range map[string][]tiercache.CompressOption{
		"other": {tiercache.WithDictionary(dictB)},
		"none":  nil,
	} {
		var reported error
		reader := tiercache.Compress(inner, append(opts, tiercache.WithCompressErrorHook(func(_ string, err error) { reported = err }))...)
		tiercachetest.MustGet(t, reader, "k", nil)
		if !errors.Is(reported, tiercache.ErrDictionary) {
			t.Fatalf("%s dictionary: reported %v, want ErrDictionary", name, reported)
		}
		if s := reader.(*tiercache.Compressor).Stats(); s.Corrupt != 1 || s.Decompressed != 0 {
			t.Fatalf("%s dictionary: Stats = %+v, want one undecodable entry", name, s)
		}
		tiercachetest.MustGet(t, writer, "k", want) // kept for the readers with the dictionary
		t.Logf("%s dictionary: %v", name, reported)
	}
}

// TestCompressTrainedDictionary uses a dictionary in the zstd format.
func TestCompressTrainedDictionary(t *testing.T) {
	page := compressSpec()
	var samples [][]byte
	for i := 0; i+4096 <= 128<<10; i += 4096 {
		samples = append(samples, page[i:i+4096])
	}
	dict, err := zstd.BuildDict(zstd.BuildDictOptions{ID: 4242, Contents: samples, History: page[:64<<10], Offsets: [3]int{1, 4, 8}})
	if err != nil {
		t.Skipf("BuildDict: %v", err)
	}
	inner := newCompressFake()
	want := compressPage(page[200<<10 : 203<<10])
	tiercachetest.MustPut(t, tiercache.Compress(inner, tiercache.WithDictionary(dict)), "k", want, compressTTL())
	if id := binary.LittleEndian.Uint32(inner.stored(t, "k")[8:]); id != 4242 {
		t.Fatalf("frame dictionary ID %d, want the dictionary's own 4242", id)
	}
	tiercachetest.MustGet(t, tiercache.Compress(inner, tiercache.WithDictionary(dict)), "k", want)
}

// TestCompressFrameLikeBodyOverLimit: a raw body that would need escaping
// but cannot be read back under the limit is refused with ErrTooLarge.
func TestCompressFrameLikeBodyOverLimit(t *testing.T) {
	m := tiercache.Compress(newCompressFake(), tiercache.WithMaxDecodedSize(1024))
	body := append([]byte("\xf5TCZ"), make([]byte, 2000)...)
	if _, err := m.Put(context.Background(), "k", compressPage(body), compressTTL()); !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put error = %v, want ErrTooLarge", err)
	}
	if s := m.(*tiercache.Compressor).Stats(); s.Skipped != 1 {
		t.Fatalf("Stats = %+v", s)
	}
}

// FuzzCompressGet feeds arbitrary stored bodies, raw or behind a valid frame
// header, to Compress.Get: it must never panic, every error must wrap one of
// the documented sentinels, and a decoded body must match its header.
func FuzzCompressGet(f *testing.F) {
	page := compressSpec()[:4000]
	for _, alg := range []tiercache.Algorithm{tiercache.Zstd, tiercache.S2, tiercache.Gzip} {
		inner := newCompressFake()
		tiercachetest.MustPut(f, tiercache.Compress(inner, tiercache.WithAlgorithm(alg)), "k", compressPage(page), compressTTL())
		stored := inner.stored(f, "k")
		f.Add(byte(alg), uint32(len(page)), stored[24:], false)
		f.Add(byte(0), uint32(0), stored, true)
	}
	f.Add(byte(0), uint32(3), []byte("abc"), false)
	f.Fuzz(func(t *testing.T, alg byte, length uint32, payload []byte, raw bool) {
		body := payload
		if !raw {
			length %= 1 << 18
			crc := uint32(0)
			if int(length) <= len(payload) {
				crc = compressCRC(payload[:length])
			}
			body = compressFrame(tiercache.Algorithm(alg%5), 0, int(length), crc, payload)
		}
		got, err := compressGetRaw(body, tiercache.WithMaxDecodedSize(1<<17))
		switch {
		case err != nil:
			for _, want := range []error{tiercache.ErrCorrupt, tiercache.ErrVersion, tiercache.ErrTooLarge, tiercache.ErrDictionary} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %v wraps no documented sentinel", err)
		case got == nil:
			t.Fatal("Get of a stored entry returned a miss without an error")
		case !raw && (len(got.Body) != int(length) || compressCRC(got.Body) != compressCRC(payload[:min(int(length), len(payload))])):
			t.Fatalf("decoded %d bytes from a frame that says %d", len(got.Body), length)
		}
	})
}
