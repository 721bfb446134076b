package tiercache_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
)

// compressNop keeps the last response it was given and returns it from Get,
// so that the benchmarks measure Compress and nothing else. Not safe for
// concurrent use.
type compressNop struct {
	resp *tiercache.Response
	pol  *tiercache.Policy
}

func (n *compressNop) Get(context.Context, string) (*tiercache.Response, *tiercache.Policy, error) {
	return n.resp, n.pol, nil
}

func (n *compressNop) Put(_ context.Context, _ string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	n.resp, n.pol = resp, pol
	return resp, nil
}

func (n *compressNop) Delete(context.Context, string) error { return nil }

var compressBenchAlgorithms = []struct {
	name string
	opts []tiercache.CompressOption
}{
	{"zstd-fastest", []tiercache.CompressOption{tiercache.WithLevel(1)}},
	{"zstd-default", []tiercache.CompressOption{tiercache.WithLevel(2)}},
	{"s2", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.S2)}},
	{"gzip", []tiercache.CompressOption{tiercache.WithAlgorithm(tiercache.Gzip)}},
}

// BenchmarkCompressPut measures Put through Compress on the Go spec page.
func BenchmarkCompressPut(b *testing.B) {
	page, ctx, pol := compressSpec(), context.Background(), compressTTL()
	for _, a := range compressBenchAlgorithms {
		b.Run(a.name, func(b *testing.B) {
			inner := &compressNop{}
			m := tiercache.Compress(inner, a.opts...)
			resp := compressPage(page)
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Put(ctx, "spec", resp, pol); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(page))/float64(len(inner.resp.Body)), "ratio")
		})
	}
}

// BenchmarkCompressGet measures Get through Compress of a framed page.
func BenchmarkCompressGet(b *testing.B) {
	page, ctx, pol := compressSpec(), context.Background(), compressTTL()
	for _, a := range compressBenchAlgorithms {
		b.Run(a.name, func(b *testing.B) {
			inner := &compressNop{}
			m := tiercache.Compress(inner, a.opts...)
			if _, err := m.Put(ctx, "spec", compressPage(page), pol); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				got, _, err := m.Get(ctx, "spec")
				if err != nil || len(got.Body) != len(page) {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(page))/float64(len(inner.resp.Body)), "ratio")
		})
	}
}

// compressRawCodec is klauspost/compress called directly, the way a careful caller
// would: shared zstd Encoder/Decoder, reused gzip writer and reader, output
// of encoders into a reused buffer, decoded bodies in a new slice each time.
type compressRawCodec struct {
	name   string
	encode func(dst, src []byte) []byte
	decode func(src []byte, n int) ([]byte, error)
}

func compressRawCodecs(b *testing.B) []compressRawCodec {
	zfast, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	zdef, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		b.Fatal(err)
	}
	gw := gzip.NewWriter(nil)
	var gr gzip.Reader
	zstdDecode := func(src []byte, n int) ([]byte, error) { return zdec.DecodeAll(src, make([]byte, 0, n)) }
	return []compressRawCodec{
		{"zstd-fastest", func(dst, src []byte) []byte { return zfast.EncodeAll(src, dst[:0]) }, zstdDecode},
		{"zstd-default", func(dst, src []byte) []byte { return zdef.EncodeAll(src, dst[:0]) }, zstdDecode},
		{"s2", func(dst, src []byte) []byte { return s2.Encode(dst[:cap(dst)], src) },
			func(src []byte, n int) ([]byte, error) { return s2.Decode(make([]byte, n), src) }},
		{"gzip", func(dst, src []byte) []byte {
			buf := bytes.NewBuffer(dst[:0])
			gw.Reset(buf)
			_, _ = gw.Write(src)
			_ = gw.Close()
			return buf.Bytes()
		}, func(src []byte, n int) ([]byte, error) {
			if err := gr.Reset(bytes.NewReader(src)); err != nil {
				return nil, err
			}
			out := make([]byte, n)
			_, err := io.ReadFull(&gr, out)
			return out, err
		}},
	}
}

// BenchmarkCompressRawEncode is the direct-call baseline of BenchmarkCompressPut.
func BenchmarkCompressRawEncode(b *testing.B) {
	page := compressSpec()
	for _, c := range compressRawCodecs(b) {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, 0, s2.MaxEncodedLen(len(page)))
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				out = c.encode(dst, page)
			}
			b.ReportMetric(float64(len(page))/float64(len(out)), "ratio")
		})
	}
}

// BenchmarkCompressRawDecode is the direct-call baseline of BenchmarkCompressGet.
func BenchmarkCompressRawDecode(b *testing.B) {
	page := compressSpec()
	for _, c := range compressRawCodecs(b) {
		b.Run(c.name, func(b *testing.B) {
			enc := bytes.Clone(c.encode(make([]byte, 0, s2.MaxEncodedLen(len(page))), page))
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := c.decode(enc, len(page))
				if err != nil || len(out) != len(page) {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(page))/float64(len(enc)), "ratio")
		})
	}
}
