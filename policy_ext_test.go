package tiercache

import (
	"bytes"
	"encoding/hex"
	"maps"
	"net/http"
	"testing"
)

func TestPolicyExtensionRecords(t *testing.T) {
	p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60")}, WithNow(t0))
	if p.Extension(ExtensionPurge) != nil || p.Metadata() != nil {
		t.Fatal("a new policy has records")
	}
	q := p.WithExtension(ExtensionPurge, []byte("gen")).WithExtension(9, []byte("other"))
	if len(p.ext) != 0 {
		t.Fatal("WithExtension changed its receiver")
	}
	if got := q.Extension(ExtensionPurge); string(got) != "gen" {
		t.Fatalf("record %q", got)
	}
	r := q.WithExtension(ExtensionPurge, []byte("new"))
	if string(r.Extension(ExtensionPurge)) != "new" || string(r.Extension(9)) != "other" {
		t.Fatalf("replace: %x", r.ext)
	}
	if s := r.WithExtension(ExtensionPurge, nil).WithExtension(9, nil); len(s.ext) != 0 || s.wireVersion() != policyWireV1 {
		t.Fatalf("remove: %x", s.ext)
	}
	assertSamePolicy(t, p, r)
}

func TestPolicyMetadataRoundTrip(t *testing.T) {
	p := NewPolicy(nil, &http.Response{StatusCode: 200, Header: hdr("Cache-Control: max-age=60")}, WithNow(t0))
	meta := map[string]string{"tenant": "a", "": "empty key", "bin": "\x00\xff", "long": string(bytes.Repeat([]byte("v"), 300))}
	q := p.WithMetadata(meta)
	if !maps.Equal(q.Metadata(), meta) {
		t.Fatalf("metadata %v", q.Metadata())
	}
	bin, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	js, err := q.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, decode := range map[string]func(*Policy) error{
		"binary": func(d *Policy) error { return d.UnmarshalBinary(bin) },
		"json":   func(d *Policy) error { return d.UnmarshalJSON(js) },
	} {
		var d Policy
		if err := decode(&d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(d.Metadata(), meta) {
			t.Fatalf("%s: metadata %v", name, d.Metadata())
		}
		assertSamePolicy(t, q, &d)
	}
	if q.WithMetadata(nil).Metadata() != nil {
		t.Fatal("empty metadata not removed")
	}
	// Encoding is deterministic (keys sorted).
	if a, b := p.WithMetadata(meta).ext, p.WithMetadata(maps.Clone(meta)).ext; !bytes.Equal(a, b) {
		t.Fatal("metadata encoding not deterministic")
	}
}

// A version 1 form (written before metadata existed) reads with no
// metadata, and malformed metadata reads as none, never a panic.
func TestPolicyMetadataOldAndMalformed(t *testing.T) {
	var p Policy
	v1, _ := hex.DecodeString("0115008088a9e4fe91c1ec3180b09dc2df0180e497d01280b4c4c32180c0e285e368020f4163636570742d456e636f64696e6704677a697003582d5900")
	if err := p.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	if p.Metadata() != nil {
		t.Fatal("old entry has metadata")
	}
	for _, data := range [][]byte{{5}, {1, 3, 'a'}, {1, 1, 'a', 1, 'b', 0}, {0xff, 0xff, 0xff}} {
		q := p.WithExtension(ExtensionMetadata, data)
		if m := q.Metadata(); m != nil {
			t.Errorf("%x: %v", data, m)
		}
	}
}
