package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/wire"
)

// binaryEntry returns a Binary encoding of a response with headers, body and
// a policy with Vary fields.
func binaryEntry(t testing.TB) []byte {
	t.Helper()
	data, err := Binary{}.Encode(testResponses()["full"], testPolicies(t)["max-age etag vary"])
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBinaryFlipEveryByte(t *testing.T) {
	data := binaryEntry(t)
	for i := range data {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			_, _, err := Binary{}.Decode(bad)
			checkDecodeErr(t, err, fmt.Sprintf("byte %d ^ %#x", i, mask))
		}
	}
}

// frame wraps payload in a valid Binary frame (right length and checksum).
func frame(payload []byte) []byte {
	out := []byte{binaryMagic0, binaryMagic1, binaryMagic2, BinaryVersion}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(payload)))
	out = append(out, payload...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

// payload builds a payload from a status, a raw meta block, a body and the
// wire form of a TTL policy.
func payload(t testing.TB, status uint64, meta, body []byte) []byte {
	t.Helper()
	p := binary.AppendUvarint(nil, status)
	p = wire.AppendBytes(p, meta)
	p = wire.AppendBytes(p, body)
	pb, err := tiercache.NewTTLPolicy(time.Minute).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return append(p, pb...)
}

// uv concatenates uvarints and strings into a meta block.
func uv(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = binary.AppendUvarint(b, uint64(p))
		case uint64:
			b = binary.AppendUvarint(b, p)
		case string:
			b = wire.AppendString(b, p)
		}
	}
	return b
}

// TestBinaryForged feeds frames with valid checksums around lying payloads:
// the checksum proves integrity, not honesty.
func TestBinaryForged(t *testing.T) {
	pb, _ := tiercache.NewTTLPolicy(time.Minute).MarshalBinary()
	badPolicyVersion := append([]byte{3}, pb[1:]...) // versions 1 and 2 are known
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"empty payload", nil, tiercache.ErrCorrupt},
		{"status 1000", payload(t, 1000, uv("", 0, 0), nil), tiercache.ErrCorrupt},
		{"huge url length", payload(t, 200, uv(uint64(1<<62)), nil), tiercache.ErrCorrupt},
		{"huge header count", payload(t, 200, uv("", uint64(1<<62), 0), nil), tiercache.ErrCorrupt},
		{"header count over bytes", payload(t, 200, uv("", 10, 0, "a", 0), nil), tiercache.ErrCorrupt},
		{"huge value total", payload(t, 200, uv("", 1, uint64(1<<62), "a", 1, ""), nil), tiercache.ErrCorrupt},
		{"value count over total", payload(t, 200, uv("", 1, 1, "a", 2, "x", "y"), nil), tiercache.ErrCorrupt},
		{"unclaimed values", payload(t, 200, uv("", 1, 2, "a", 1, "x", "y"), nil), tiercache.ErrCorrupt},
		{"duplicate header", payload(t, 200, uv("", 2, 2, "a", 1, "x", "a", 1, "y"), nil), tiercache.ErrCorrupt},
		{"meta trailing bytes", payload(t, 200, uv("", 0, 0, 7), nil), tiercache.ErrCorrupt},
		{"meta truncated", payload(t, 200, uv("", 1, 1, "a", 1), nil), tiercache.ErrCorrupt},
		{"empty meta", payload(t, 200, nil, nil), tiercache.ErrCorrupt},
		{"huge body length", append(uv(200, "\x00\x00\x00"), uv(uint64(1<<62))...), tiercache.ErrCorrupt},
		{"no policy", uv(200, "\x00\x00\x00", ""), tiercache.ErrCorrupt},
		{"policy trailing byte", append(payload(t, 200, uv("", 0, 0), nil), 0), tiercache.ErrCorrupt},
		{"policy version 3", append(uv(200, "\x00\x00\x00", ""), badPolicyVersion...), tiercache.ErrVersion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Binary{}.Decode(frame(tc.payload))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
	// The same helpers build a valid entry, so the cases above fail for
	// the reason they name.
	resp, _, err := Binary{}.Decode(frame(payload(t, 200, uv("/u", 1, 2, "A", 2, "x", ""), []byte("b"))))
	if err != nil || resp.URL != "/u" || len(resp.Header["A"]) != 2 || string(resp.Body) != "b" {
		t.Fatalf("valid forged entry: %+v, %v", resp, err)
	}
}

func TestBinaryFrameErrors(t *testing.T) {
	good := binaryEntry(t)
	with := func(i int, b byte) []byte { d := bytes.Clone(good); d[i] = b; return d }
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, tiercache.ErrCorrupt},
		{"magic", with(0, 'x'), tiercache.ErrCorrupt},
		{"version 0", with(3, 0), tiercache.ErrVersion},
		{"version 2", with(3, 2), tiercache.ErrVersion},
		{"length", with(4, good[4]+1), tiercache.ErrCorrupt},
		{"checksum", with(len(good)-1, good[len(good)-1]^1), tiercache.ErrCorrupt},
		{"gob input", mustEncode(t, Gob{}), tiercache.ErrCorrupt},
		{"json input", mustEncode(t, JSON{}), tiercache.ErrCorrupt},
	}
	for _, tc := range cases {
		if _, _, err := (Binary{}).Decode(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func mustEncode(t testing.TB, c Codec) []byte {
	t.Helper()
	data, err := c.Encode(testResponses()["full"], tiercache.NewTTLPolicy(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBinaryAllocBound decodes valid frames built to make the decoder
// allocate as much as possible per input byte: many empty header values and
// many distinct short header names.
func TestBinaryAllocBound(t *testing.T) {
	const n = 20000
	empties := uv("", 1, n, "a", n)
	empties = append(empties, make([]byte, n)...) // n empty values
	names := uv("", n, n)
	for i := range n {
		names = append(names, uv(fmt.Sprintf("%03x", i), 1, "")...)
	}
	for _, tc := range []struct {
		name string
		meta []byte
	}{{"empty values", empties}, {"many names", names}} {
		t.Run(tc.name, func(t *testing.T) {
			data := frame(payload(t, 200, tc.meta, nil))
			if _, _, err := (Binary{}).Decode(data); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			per := allocBytes(func() { _, _, _ = Binary{}.Decode(data) })
			if limit := 40*len(data) + 4096; per > limit {
				t.Fatalf("Decode of %d bytes allocated %d bytes, over %d", len(data), per, limit)
			}
			t.Logf("Decode of %d bytes allocated %d bytes (%.1fx)", len(data), per, float64(per)/float64(len(data)))
		})
	}
}

// allocBytes returns the bytes f allocates per call, averaged over runs.
func allocBytes(f func()) int {
	const runs = 20
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return int((after.TotalAlloc - before.TotalAlloc) / runs)
}

func TestBinaryAppend(t *testing.T) {
	resp := testResponses()["full"]
	pol := testPolicies(t)["max-age etag vary"]
	prefix := []byte("prefix")
	out, err := Binary{}.Append(bytes.Clone(prefix), resp, pol)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, prefix) {
		t.Fatalf("Append overwrote dst")
	}
	got, _, err := Binary{}.Decode(out[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, got, resp)
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	dst := make([]byte, 0, 2*len(out))
	if n := testing.AllocsPerRun(50, func() { _, _ = Binary{}.Append(dst, resp, pol) }); n != 0 {
		t.Errorf("Append into a large enough dst: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = Binary{}.Encode(resp, pol) }); n != 1 {
		t.Errorf("Encode: %v allocs, want 1", n)
	}
	if bad, err := (Binary{}).Append(prefix, nil, pol); err == nil || !bytes.Equal(bad, prefix) {
		t.Errorf("Append(nil response) = %q, %v; want dst unchanged and an error", bad, err)
	}
}

func TestBinaryDecodeCost(t *testing.T) {
	data := binaryEntry(t)
	resp, _, err := Binary{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// The body aliases data, with its capacity clipped.
	if &resp.Body[0] != &data[bytes.Index(data, resp.Body)] || cap(resp.Body) != len(resp.Body) {
		t.Errorf("Body does not alias data with a clipped capacity")
	}
	// entry, meta string, values, header map (and its groups), policy
	// vary slice and its strings: no per-header-field string allocations.
	n := testing.AllocsPerRun(50, func() { _, _, _ = Binary{}.Decode(data) })
	if n > 12 && !raceEnabled {
		t.Errorf("Decode: %v allocs, want at most 12", n)
	}
	t.Logf("Decode: %v allocs", n)
}

func TestBinaryNilHeader(t *testing.T) {
	for _, h := range []http.Header{nil, {}} {
		data, err := Binary{}.Encode(&tiercache.Response{Status: 200, Header: h}, tiercache.NewTTLPolicy(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Binary{}.Decode(data)
		if err != nil || got.Header == nil || len(got.Header) != 0 {
			t.Fatalf("header %#v decoded as %#v, %v; want empty non-nil", h, got.Header, err)
		}
	}
}
