package tiercache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache/internal/httpfield"
	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/nilarg"
)

// Algorithm is a compression algorithm of [Compress]. The values are the
// algorithm ids written in the frame and never change.
type Algorithm uint8

// Compression algorithms. All come from github.com/klauspost/compress.
const (
	// Zstd is Zstandard: the best ratio for its speed. The default.
	Zstd Algorithm = 1
	// S2 is S2, an extension of Snappy: the fastest, with a lower ratio.
	S2 Algorithm = 2
	// Gzip is gzip (deflate): near Zstd's ratio but several times slower to
	// decode; for payloads that gzip tooling must understand.
	Gzip Algorithm = 3
)

// String returns the algorithm's name: "zstd", "s2", "gzip", or "stored"
// for the id of an uncompressed frame.
func (a Algorithm) String() string {
	switch a {
	case algStored:
		return "stored"
	case Zstd:
		return "zstd"
	case S2:
		return "s2"
	case Gzip:
		return "gzip"
	}
	return fmt.Sprintf("algorithm(%d)", uint8(a))
}

// Defaults and limits of the Compress options.
const (
	// DefaultCompressMinSize is the default of WithMinSize: bodies shorter
	// than 1 KiB are stored as they are.
	DefaultCompressMinSize = 1 << 10
	// DefaultMaxDecodedSize is the default of WithMaxDecodedSize: 64 MiB.
	DefaultMaxDecodedSize = 64 << 20
	// MinMaxDecodedSize and MaxMaxDecodedSize bound WithMaxDecodedSize.
	// The upper bound is what the frame's 32-bit length field can hold.
	MinMaxDecodedSize = 1 << 10
	MaxMaxDecodedSize = 1<<32 - 1
)

// ErrDictionary reports a compressed entry that needs a zstd dictionary
// other than the one the reading Compress was given (WithDictionary).
var ErrDictionary = errors.New("tiercache: entry needs another zstd dictionary")

// CompressOption configures [Compress]. Options cannot fail: out-of-range
// values are clamped to the range each option documents.
type CompressOption func(*compressConfig)

type compressConfig struct {
	alg        Algorithm
	level      int
	minSize    int
	maxDecoded int
	dict       []byte
	onError    func(key string, err error)
}

// WithAlgorithm selects the algorithm new entries are written with: Zstd
// (default), S2 or Gzip; any other value means Zstd. Entries written with any
// algorithm are always read back, whatever this option says.
func WithAlgorithm(a Algorithm) CompressOption {
	return func(c *compressConfig) { c.alg = a }
}

// WithLevel sets the compression level of the selected algorithm. 0 (the
// default) means the algorithm's default; other values are clamped to its
// range. Zstd: 1 (SpeedFastest, the default) to 4 (SpeedBestCompression); 2 is
// SpeedDefault. S2: 1 (Encode, the default), 2 (EncodeBetter), 3 (EncodeBest).
// Gzip: 1 to 9, default 5. Higher levels compress better and slower. Zstd
// defaults to SpeedFastest because it is the level that keeps encoding at
// about 190 MB/s per core on HTML (ratio 3.2 on the Go spec); SpeedDefault
// gives ratio 3.5 at about 150 MB/s and decodes slightly faster.
func WithLevel(level int) CompressOption {
	return func(c *compressConfig) { c.level = level }
}

// WithMinSize sets the smallest body that is compressed (default
// DefaultCompressMinSize, 1 KiB). Shorter bodies are stored as they are.
// Negative values mean 0.
func WithMinSize(n int) CompressOption {
	return func(c *compressConfig) { c.minSize = max(n, 0) }
}

// WithMaxDecodedSize sets the largest body a frame may decode to (default
// DefaultMaxDecodedSize, 64 MiB); a frame that claims or inflates to more
// gives an error wrapping ErrTooLarge, so a decompression bomb costs at most
// this much memory. Bodies longer than the limit are stored uncompressed. The
// value is clamped to [MinMaxDecodedSize, MaxMaxDecodedSize].
func WithMaxDecodedSize(n int64) CompressOption {
	return func(c *compressConfig) {
		c.maxDecoded = int(min(max(n, MinMaxDecodedSize), MaxMaxDecodedSize, math.MaxInt))
	}
}

// WithDictionary gives zstd a dictionary: either one in the zstd dictionary
// format ("zstd --train", zstd.BuildDict), whose own ID is used, or any other
// bytes, used as raw history under an ID derived from a CRC-32C of them.
// Dictionaries help most with small, similar bodies. The frame records the
// ID: reading an entry that needs a dictionary this Compress does not have
// gives an error wrapping ErrDictionary (entries written without one read
// everywhere). The bytes are copied once; the zstd encoder and decoder keep
// them. Default: no dictionary; nil or empty means none.
func WithDictionary(dict []byte) CompressOption {
	return func(c *compressConfig) { c.dict = append([]byte(nil), dict...) }
}

// WithCompressErrorHook sets a function called with the key and the error
// when Get finds an entry it cannot decode: a damaged frame (the error wraps
// ErrCorrupt; the entry has been deleted, and any error of that Delete is
// joined), or one this Compress cannot read but another may (ErrVersion,
// ErrDictionary, or ErrTooLarge for a frame that claims more than
// WithMaxDecodedSize; the entry is kept). Get returns a miss either way. The
// hook runs on the goroutine of the Get, without locks held, and must be
// safe for concurrent use. Default (and nil): none; the entries are still
// counted in CompressStats.Corrupt.
func WithCompressErrorHook(fn func(key string, err error)) CompressOption {
	return func(c *compressConfig) { c.onError = fn }
}

// Compressor is the Manager that [Compress] returns. It is safe for
// concurrent use when the Manager it wraps is; its counters are atomics.
type Compressor struct {
	next  Manager
	cfg   compressConfig
	codec *frameCodec
	stats compressCounters
}

var _ Manager = (*Compressor)(nil)

type compressCounters struct {
	compressed, skipped, bytesIn, bytesOut, decoded, corrupt atomic.Uint64
}

// CompressStats is a snapshot of a Compressor's counters.
type CompressStats struct {
	Compressed   uint64 // bodies Put compressed
	Skipped      uint64 // bodies Put stored uncompressed (small, encoded, incompressible, too large)
	BytesIn      uint64 // original length of the compressed bodies
	BytesOut     uint64 // framed length of the compressed bodies, header included
	Decompressed uint64 // frames Get decoded
	Corrupt      uint64 // frames Get could not decode (damaged, too large, another dictionary or version): misses
}

// Ratio returns BytesIn / BytesOut, or 0 before anything was compressed.
func (s CompressStats) Ratio() float64 {
	if s.BytesOut == 0 {
		return 0
	}
	return float64(s.BytesIn) / float64(s.BytesOut)
}

// Compress returns a Manager that stores Response.Body in m compressed
// (zstd by default) behind a 24-byte versioned frame: magic, version,
// algorithm, zstd dictionary ID, original length and CRC-32C checksums of
// the body and of the header (layout in compress_frame.go). Status, URL,
// Header and the policy are passed to m unchanged.
//
// Put stores bodies as they are when they are shorter than WithMinSize, when
// the response has a Content-Encoding other than identity, when they exceed
// WithMaxDecodedSize, or when compression would not make them smaller. Get
// returns an entry without a frame (written before Compress was added) as it
// is, decodes a frame of any algorithm, and verifies a CRC-32C of the
// original body, so damaged bytes are never served. An entry that cannot be
// decoded is a miss, never an error of the tier (which would count against
// it, in tier.Breaker for one): a damaged one is deleted; all are counted
// and reported to WithCompressErrorHook. Delete and misses pass through.
//
// Cost: Put compresses into a pooled scratch buffer and allocates the stored
// body once, at its compressed size; Get on a frame allocates the decoded body
// once. Codec state is shared (zstd) or pooled (gzip), never allocated per
// call. Because every hit pays a decompression, put Compress on lower tiers
// (memcached, disk) below an uncompressed in-process front.
//
// The returned Manager is a *Compressor (for its Stats) and is safe for
// concurrent use if m is. Options cannot fail, see CompressOption. A nil m,
// or a nil pointer in a non-nil m (what a failed backend constructor
// returns), is a programming error: Compress panics with a message naming it.
func Compress(m Manager, opts ...CompressOption) Manager {
	nilarg.Check("tiercache: Compress", "m", m)
	cfg := compressConfig{alg: Zstd, minSize: DefaultCompressMinSize, maxDecoded: DefaultMaxDecodedSize}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.alg != S2 && cfg.alg != Gzip {
		cfg.alg = Zstd
	}
	cfg.level = clampLevel(cfg.alg, cfg.level)
	return &Compressor{next: m, cfg: cfg, codec: newFrameCodec(cfg)}
}

// clampLevel maps level 0 to the algorithm's default and clamps the rest.
func clampLevel(a Algorithm, level int) int {
	lo, hi, def := 1, 4, 1
	switch a {
	case S2:
		hi = 3
	case Gzip:
		hi, def = 9, 5
	}
	if level == 0 {
		return def
	}
	return min(max(level, lo), hi)
}

// Stats returns a snapshot of the counters. It reads six atomics.
func (c *Compressor) Stats() CompressStats {
	s := &c.stats
	return CompressStats{
		Compressed: s.compressed.Load(), Skipped: s.skipped.Load(),
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
		Decompressed: s.decoded.Load(), Corrupt: s.corrupt.Load(),
	}
}

// Get returns the entry stored under key with its body decompressed. An
// entry without a frame is returned as m returned it. A framed one is a new
// Response sharing m's Header, whose Body is newly allocated and decoded (a
// sub-slice of m's body for the rare stored frame); it costs one
// decompression, one CRC-32C pass and two allocations, and never more memory
// than the length the frame claims (at most WithMaxDecodedSize) plus a small
// constant, whatever the payload inflates to. A frame that cannot be decoded
// is a miss (see Compress and WithCompressErrorHook). Errors are m's. Treat
// the result as read-only.
func (c *Compressor) Get(ctx context.Context, key string) (*Response, *Policy, error) {
	resp, pol, err := c.next.Get(ctx, key)
	if err != nil || resp == nil {
		return resp, pol, err
	}
	body, framed, err := c.codec.decode(resp.Body)
	if err != nil {
		c.dropUndecodable(ctx, key, err)
		return nil, nil, nil
	}
	if !framed {
		return resp, pol, nil
	}
	c.stats.decoded.Add(1)
	out := *resp
	out.Body = body
	return &out, pol, nil
}

// dropUndecodable counts and reports an entry Get could not decode, and
// deletes it when it is damaged (ErrCorrupt). One that another Compress may
// read (a newer version, another dictionary, a higher decoded-size limit)
// is kept, as during a rolling upgrade. A Put racing with the delete may
// lose its new value, which only costs a later miss.
func (c *Compressor) dropUndecodable(ctx context.Context, key string, err error) {
	c.stats.corrupt.Add(1)
	err = fmt.Errorf("tiercache: Compress.Get(%s): %w", keyfmt.Quote(key), err)
	if errors.Is(err, ErrCorrupt) {
		if derr := c.next.Delete(ctx, key); derr != nil {
			err = errors.Join(err, fmt.Errorf("tiercache: Compress.Get: deleting the damaged entry: %w", derr))
		}
	}
	if c.cfg.onError != nil {
		c.cfg.onError(key, err)
	}
}

// Put stores resp under key in m, its body compressed unless a skip rule
// applies, and returns resp. It never modifies resp: m receives a copy of the
// struct (sharing Header) whose Body is the frame. A policy that allows no
// retention is passed to m without compressing; a cancelled ctx returns its
// error before any work.
func (c *Compressor) Put(ctx context.Context, key string, resp *Response, pol *Policy) (*Response, error) {
	if err := CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stored := resp
	if pol.KeepFor(time.Now()) > 0 {
		body, err := c.encode(resp)
		if err != nil {
			return nil, fmt.Errorf("tiercache: Compress.Put(%s): %w", keyfmt.Quote(key), err)
		}
		if body != nil {
			cp := *resp
			cp.Body = body
			stored = &cp
		}
	}
	if _, err := c.next.Put(ctx, key, stored, pol); err != nil {
		return nil, err
	}
	return resp, nil
}

// encode returns the body to store in place of resp.Body, or nil to store
// resp as it is.
func (c *Compressor) encode(resp *Response) ([]byte, error) {
	b := resp.Body
	if len(b) >= c.cfg.minSize && len(b) <= c.cfg.maxDecoded && !hasContentEncoding(resp.Header) {
		framed, err := c.codec.encode(b)
		if err != nil || framed != nil {
			if framed != nil {
				c.stats.compressed.Add(1)
				c.stats.bytesIn.Add(uint64(len(b)))
				c.stats.bytesOut.Add(uint64(len(framed)))
			}
			return framed, err
		}
	}
	c.stats.skipped.Add(1)
	if looksFramed(b) && len(b) > c.cfg.maxDecoded {
		return nil, fmt.Errorf("%w: a %d-byte body that starts like a frame exceeds the decoded-size limit", ErrTooLarge, len(b))
	}
	if looksFramed(b) {
		// A raw body that Get would take for a frame is escaped in a
		// stored frame. Rare: such bodies start with a non-UTF-8 byte.
		return appendStored(nil, b), nil
	}
	return nil, nil
}

// Delete removes key from m.
func (c *Compressor) Delete(ctx context.Context, key string) error {
	return c.next.Delete(ctx, key)
}

// hasContentEncoding reports whether h names a content coding other than
// identity, in which case the body is already compressed.
func hasContentEncoding(h http.Header) bool {
	for e := range httpfield.Elements(h.Values("Content-Encoding")) {
		if !strings.EqualFold(e, "identity") {
			return true
		}
	}
	return false
}
