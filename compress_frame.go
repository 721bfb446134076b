package tiercache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// The frame that Compress puts in front of a compressed body, version 1.
// Integers are little-endian.
//
//	offset size field
//	0      4    magic       "\xf5TCZ"; 0xF5 never starts UTF-8 text
//	4      1    version     1
//	5      1    algorithm   0 stored, 1 zstd, 2 s2, 3 gzip (the Algorithm values)
//	6      2    flags       0; other values are rejected (ErrVersion)
//	8      4    dictionary  ID of the zstd dictionary the payload needs; 0 for none
//	12     4    length      length of the original body
//	16     4    body CRC    CRC-32C (Castagnoli) of the original body
//	20     4    header CRC  CRC-32C of bytes 0 to 19
//	24     ...  payload     a zstd frame (without its own checksum), an s2 block,
//	                        a gzip member, or the body itself (stored)
//
// A body that does not start with the magic has no frame and is returned as
// it is, unless its header CRC matches with the magic restored: then it is a
// frame with a damaged magic (ErrCorrupt). Compress escapes a raw body that
// could be taken for a frame by storing it in a "stored" frame.
const (
	frameMagic     = "\xf5TCZ"
	frameVersion   = 1
	offVersion     = 4
	offAlgorithm   = 5
	offFlags       = 6
	offDict        = 8
	offLength      = 12
	offBodyCRC     = 16
	offHeaderCRC   = 20
	frameHeaderLen = 24

	algStored Algorithm = 0

	// maxPooledScratch is the largest scratch buffer kept for reuse.
	maxPooledScratch = 4 << 20
	// rawDictMinID is the lowest ID given to a raw dictionary; lower IDs
	// are reserved by the zstd format.
	rawDictMinID = 1 << 15
)

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	magicCRC   = crc32.Checksum([]byte(frameMagic), castagnoli)
	le         = binary.LittleEndian
	scratch    sync.Pool // *[]byte, compression output before it is copied
)

// frameCodec encodes and decodes frames for one configuration. It is safe for
// concurrent use: the zstd encoder and decoder are shared (EncodeAll and
// DecodeAll are stateless), s2 is stateless, gzip state is pooled.
type frameCodec struct {
	alg        Algorithm
	level      int
	maxDecoded int
	dictID     uint32
	zenc       *zstd.Encoder                 // nil unless alg is Zstd
	zdec       func() (*zstd.Decoder, error) // built on the first zstd frame read
	gzw, gzr   sync.Pool                     // *gzipWriter, *gzipReader
	initErr    error
}

type gzipWriter struct {
	zw  *gzip.Writer
	out appendBuffer
}

type gzipReader struct {
	zr  gzip.Reader
	br  bytes.Reader
	buf [1]byte
}

// appendBuffer is an io.Writer that appends to b.
type appendBuffer struct{ b []byte }

func (a *appendBuffer) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// frameHeader holds the decoded fields of a frame header.
type frameHeader struct {
	alg    Algorithm
	dictID uint32
	length int
	crc    uint32
}

func newFrameCodec(cfg compressConfig) *frameCodec {
	f := &frameCodec{alg: cfg.alg, level: cfg.level, maxDecoded: cfg.maxDecoded}
	eopts := []zstd.EOption{zstd.WithEncoderLevel(zstd.EncoderLevel(cfg.level)), zstd.WithEncoderCRC(false)}
	// DecodeAll writes into a buffer of the length the frame claims and stops
	// there (WithDecodeAllCapLimit), and no window can exceed the limit: a
	// bomb costs what it claims, at most the limit, plus one block.
	dopts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(uint64(cfg.maxDecoded)),
		zstd.WithDecoderMaxWindow(uint64(max(cfg.maxDecoded, zstd.MinWindowSize))), zstd.WithDecodeAllCapLimit(true)}
	if len(cfg.dict) > 0 {
		var eo zstd.EOption
		var do zstd.DOption
		f.dictID, eo, do = dictOptions(cfg.dict)
		eopts, dopts = append(eopts, eo), append(dopts, do)
	}
	if cfg.alg == Zstd {
		f.zenc, f.initErr = zstd.NewWriter(nil, eopts...)
	}
	f.zdec = sync.OnceValues(func() (*zstd.Decoder, error) { return zstd.NewReader(nil, dopts...) })
	f.gzw.New = func() any {
		zw, _ := gzip.NewWriterLevel(nil, cfg.level) // level is in 1..9: no error
		return &gzipWriter{zw: zw}
	}
	f.gzr.New = func() any { return new(gzipReader) }
	return f
}

// dictOptions returns the ID and the zstd options of a dictionary: its own
// ID when dict is in the zstd dictionary format, else raw content under an
// ID derived from its CRC-32C.
func dictOptions(dict []byte) (uint32, zstd.EOption, zstd.DOption) {
	if d, err := zstd.InspectDictionary(dict); err == nil && d.ID() != 0 {
		return d.ID(), zstd.WithEncoderDict(dict), zstd.WithDecoderDicts(dict)
	}
	id := rawDictMinID + crc32.Checksum(dict, castagnoli)%(1<<31-rawDictMinID)
	return id, zstd.WithEncoderDictRaw(id, dict), zstd.WithDecoderDictRaw(id, dict)
}

// encode returns body in a frame, or nil when the frame is not smaller than
// body. The result is a new slice of exactly its length.
func (f *frameCodec) encode(body []byte) ([]byte, error) {
	if f.initErr != nil {
		return nil, f.initErr
	}
	sp, _ := scratch.Get().(*[]byte)
	if sp == nil {
		sp = new([]byte)
	}
	dst := slices.Grow((*sp)[:0], frameHeaderLen+len(body)+len(body)/64+64)[:frameHeaderLen]
	var err error
	dictID := uint32(0)
	switch f.alg {
	case Zstd:
		dst, dictID = f.zenc.EncodeAll(body, dst), f.dictID
	case S2:
		dst = f.s2Encode(body, dst)
	case Gzip:
		dst, err = f.gzipEncode(body, dst)
	}
	var out []byte
	if err == nil && len(dst) < len(body) {
		writeHeader(dst, f.alg, dictID, len(body), crc32.Checksum(body, castagnoli))
		out = append([]byte(nil), dst...) // unlike make+copy, does not zero first
	}
	if cap(dst) <= maxPooledScratch {
		*sp = dst[:0]
		scratch.Put(sp)
	}
	return out, err
}

func (f *frameCodec) s2Encode(body, dst []byte) []byte {
	n := s2.MaxEncodedLen(len(body))
	if n < 0 {
		return append(dst, body...) // too large for s2: not smaller
	}
	dst = slices.Grow(dst, n)[:frameHeaderLen+n]
	var p []byte
	switch f.level {
	case 1:
		p = s2.Encode(dst[frameHeaderLen:], body)
	case 2:
		p = s2.EncodeBetter(dst[frameHeaderLen:], body)
	default:
		p = s2.EncodeBest(dst[frameHeaderLen:], body)
	}
	return dst[:frameHeaderLen+len(p)]
}

func (f *frameCodec) gzipEncode(body, dst []byte) ([]byte, error) {
	g := f.gzw.Get().(*gzipWriter)
	g.out.b = dst
	g.zw.Reset(&g.out)
	_, err := g.zw.Write(body)
	if cerr := g.zw.Close(); err == nil {
		err = cerr
	}
	dst, g.out.b = g.out.b, nil
	f.gzw.Put(g)
	return dst, err
}

// appendStored appends body in a stored (uncompressed) frame to dst.
func appendStored(dst, body []byte) []byte {
	start := len(dst)
	dst = append(slices.Grow(dst, frameHeaderLen+len(body)), make([]byte, frameHeaderLen)...)
	dst = append(dst, body...)
	writeHeader(dst[start:], algStored, 0, len(body), crc32.Checksum(body, castagnoli))
	return dst
}

// writeHeader fills the first frameHeaderLen bytes of dst.
func writeHeader(dst []byte, alg Algorithm, dictID uint32, length int, crc uint32) {
	copy(dst, frameMagic)
	dst[offVersion] = frameVersion
	dst[offAlgorithm] = byte(alg)
	le.PutUint16(dst[offFlags:], 0)
	le.PutUint32(dst[offDict:], dictID)
	le.PutUint32(dst[offLength:], uint32(length))
	le.PutUint32(dst[offBodyCRC:], crc)
	le.PutUint32(dst[offHeaderCRC:], headerCRC(dst))
}

// headerCRC is the CRC-32C of a header's first 20 bytes, magic assumed.
func headerCRC(b []byte) uint32 {
	return crc32.Update(magicCRC, castagnoli, b[len(frameMagic):offHeaderCRC])
}

// looksFramed reports whether Get would treat b as a frame: it starts with
// the magic (or is a prefix of it), or its header checksum matches once the
// magic is restored.
func looksFramed(b []byte) bool {
	if n := min(len(b), len(frameMagic)); n > 0 && string(b[:n]) == frameMagic[:n] {
		return true // a frame, or one truncated inside its magic
	}
	return len(b) >= frameHeaderLen && b[offVersion] == frameVersion &&
		headerCRC(b) == le.Uint32(b[offHeaderCRC:])
}

// decode returns the original body of a frame and true, or b and false when
// b has no frame. The error wraps ErrCorrupt, ErrVersion, ErrTooLarge or
// ErrDictionary.
func (f *frameCodec) decode(b []byte) ([]byte, bool, error) {
	if !looksFramed(b) {
		return b, false, nil
	}
	h, err := f.parseHeader(b)
	if err != nil {
		return nil, true, err
	}
	body, err := f.decodePayload(h, b[frameHeaderLen:])
	switch {
	case err != nil:
		return nil, true, err
	case len(body) != h.length:
		return nil, true, fmt.Errorf("%w: %s frame decoded to %d bytes, header says %d", ErrCorrupt, h.alg, len(body), h.length)
	case crc32.Checksum(body, castagnoli) != h.crc:
		return nil, true, fmt.Errorf("%w: %s frame body checksum mismatch", ErrCorrupt, h.alg)
	}
	return body, true, nil
}

func (f *frameCodec) parseHeader(b []byte) (frameHeader, error) {
	switch {
	case len(b) < frameHeaderLen:
		return frameHeader{}, fmt.Errorf("%w: truncated frame header (%d bytes)", ErrCorrupt, len(b))
	case string(b[:len(frameMagic)]) != frameMagic:
		return frameHeader{}, fmt.Errorf("%w: damaged frame magic %q", ErrCorrupt, b[:len(frameMagic)])
	case b[offVersion] != frameVersion:
		return frameHeader{}, fmt.Errorf("%w: frame version %d, want %d", ErrVersion, b[offVersion], frameVersion)
	case headerCRC(b) != le.Uint32(b[offHeaderCRC:]):
		return frameHeader{}, fmt.Errorf("%w: frame header checksum mismatch", ErrCorrupt)
	case le.Uint16(b[offFlags:]) != 0:
		return frameHeader{}, fmt.Errorf("%w: unknown frame flags %#04x", ErrVersion, le.Uint16(b[offFlags:]))
	}
	h := frameHeader{
		alg:    Algorithm(b[offAlgorithm]),
		dictID: le.Uint32(b[offDict:]),
		length: int(le.Uint32(b[offLength:])),
		crc:    le.Uint32(b[offBodyCRC:]),
	}
	if h.length > f.maxDecoded {
		return h, fmt.Errorf("%w: frame claims %d bytes, decoded-size limit is %d", ErrTooLarge, h.length, f.maxDecoded)
	}
	switch h.alg {
	case algStored, S2, Gzip:
		if h.dictID != 0 {
			return h, fmt.Errorf("%w: %s frame names dictionary %#08x", ErrCorrupt, h.alg, h.dictID)
		}
	case Zstd:
		if h.dictID != 0 && h.dictID != f.dictID {
			return h, fmt.Errorf("%w: entry was written with zstd dictionary %#08x, this Compress has %s",
				ErrDictionary, h.dictID, dictName(f.dictID))
		}
	default:
		return h, fmt.Errorf("%w: unknown frame algorithm %d", ErrVersion, h.alg)
	}
	return h, nil
}

func dictName(id uint32) string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprintf("%#08x", id)
}

func (f *frameCodec) decodePayload(h frameHeader, p []byte) ([]byte, error) {
	switch h.alg {
	case Zstd:
		return f.zstdDecode(h, p)
	case S2:
		return f.s2Decode(h, p)
	case Gzip:
		return f.gzipDecode(h, p)
	}
	return p, nil // stored
}

func (f *frameCodec) zstdDecode(h frameHeader, p []byte) ([]byte, error) {
	dec, err := f.zdec()
	if err != nil {
		return nil, err
	}
	var zh zstd.Header
	if err := zh.Decode(p); err != nil {
		return nil, fmt.Errorf("%w: zstd frame header: %w", ErrCorrupt, err)
	}
	// The frame header's length is within the limit (parseHeader): a payload
	// that disagrees with it is damaged, whatever it claims.
	if zh.HasFCS && zh.FrameContentSize != uint64(h.length) {
		return nil, fmt.Errorf("%w: zstd frame claims %d bytes, header says %d", ErrCorrupt, zh.FrameContentSize, h.length)
	}
	// The output cannot grow past its capacity (WithDecodeAllCapLimit).
	out, err := dec.DecodeAll(p, make([]byte, 0, h.length))
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded), errors.Is(err, zstd.ErrFrameSizeExceeded):
		return nil, fmt.Errorf("%w: zstd payload inflates past the %d bytes its header says: %w", ErrCorrupt, h.length, err)
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		// Compress writes frames whose window is at most their length.
		return nil, fmt.Errorf("%w: zstd window exceeds the decoded-size limit %d: %w", ErrCorrupt, f.maxDecoded, err)
	case err != nil:
		return nil, fmt.Errorf("%w: zstd payload: %w", ErrCorrupt, err)
	}
	return out, nil
}

func (f *frameCodec) s2Decode(h frameHeader, p []byte) ([]byte, error) {
	n, err := s2.DecodedLen(p)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: s2 payload: %w", ErrCorrupt, err)
	case n != h.length: // h.length is within the limit (parseHeader)
		return nil, fmt.Errorf("%w: s2 payload claims %d bytes, header says %d", ErrCorrupt, n, h.length)
	}
	out, err := s2.Decode(make([]byte, n), p)
	if err != nil {
		return nil, fmt.Errorf("%w: s2 payload: %w", ErrCorrupt, err)
	}
	return out, nil
}

func (f *frameCodec) gzipDecode(h frameHeader, p []byte) ([]byte, error) {
	r := f.gzr.Get().(*gzipReader)
	defer func() {
		r.br.Reset(nil)
		f.gzr.Put(r)
	}()
	r.br.Reset(p)
	if err := r.zr.Reset(&r.br); err != nil {
		return nil, fmt.Errorf("%w: gzip payload: %w", ErrCorrupt, err)
	}
	out := make([]byte, h.length)
	if _, err := io.ReadFull(&r.zr, out); err != nil {
		return nil, fmt.Errorf("%w: gzip payload: %w", ErrCorrupt, err)
	}
	// One more byte is either the end of the stream, after the trailer's
	// checksum was verified, or the sign of a payload longer than claimed:
	// a bomb is never inflated further.
	k, err := io.ReadFull(&r.zr, r.buf[:1])
	switch {
	case k > 0:
		return nil, fmt.Errorf("%w: gzip payload inflates past the %d bytes its header says", ErrCorrupt, h.length)
	case err != io.EOF:
		return nil, fmt.Errorf("%w: gzip payload: %w", ErrCorrupt, err)
	}
	return out, nil
}
