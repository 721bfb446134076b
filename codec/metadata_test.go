package codec

import (
	"context"
	"encoding/hex"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// Metadata (tiercache.Policy.WithMetadata) is an extension record of the
// policy's wire form: every codec carries it without a change of its own
// format, and entries written before it existed read with none.

func TestMetadataRoundTrip(t *testing.T) {
	meta := map[string]string{"tenant": "acme", "origin-ms": "42", "empty": ""}
	resp := testResponses()["full"]
	for pname, pol := range testPolicies(t) {
		withMeta := pol.WithMetadata(meta)
		for _, c := range codecs {
			t.Run(c.name+"/"+pname, func(t *testing.T) {
				data, err := c.c.Encode(resp, withMeta)
				if err != nil {
					t.Fatal(err)
				}
				got, gotPol, err := c.c.Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				checkResponse(t, got, resp)
				checkSame(t, gotPol, pol)
				if m := gotPol.Metadata(); !maps.Equal(m, meta) {
					t.Fatalf("metadata %v, want %v", m, meta)
				}
			})
		}
	}
}

func TestMetadataThroughManager(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			m := NewManager(newMemStore(), WithCodec(c.c), WithClock(func() time.Time { return now }))
			pol := tiercache.NewTTLPolicy(time.Hour, tiercache.WithNow(now)).WithMetadata(map[string]string{"k": "v"})
			ctx := context.Background()
			if _, err := m.Put(ctx, "key", &tiercache.Response{Status: 200}, pol); err != nil {
				t.Fatal(err)
			}
			_, got, err := m.Get(ctx, "key")
			if err != nil || got == nil || got.Metadata()["k"] != "v" {
				t.Fatalf("got %v %v", got, err)
			}
		})
	}
}

// Entries encoded before metadata existed (these bytes come from the
// encoders as they were) decode with no metadata.
func TestMetadataOldEntriesRead(t *testing.T) {
	old := map[string]string{
		"Binary": "d75443014e000000c801311568747470733a2f2f6578616d706c652e636f6d2f6d01010c436f6e74656e742d54797065010a746578742f706c61696e036f6c640100008080d0dfbd94b9863180c0e285e368000000007eb5cd3e",
		"Gob":    "547f03010108676f62456e74727901ff80000106010756657273696f6e0104000106537461747573010400010355524c010c00010648656164657201ff86000104426f6479010a000106506f6c696379010a0000001fff85020101105b5d636f6465632e676f624669656c6401ff860001ff8200002bff8103010108676f624669656c6401ff8200010201044e616d65010c00010656616c75657301ff8400000016ff83020101085b5d737472696e6701ff8400010c00005bff80010201fe0190011568747470733a2f2f6578616d706c652e636f6d2f6d0101010c436f6e74656e742d5479706501010a746578742f706c61696e0001036f6c6401160100008080d0dfbd94b9863180c0e285e3680000000000",
		"JSON":   "7b2276223a312c22737461747573223a3230302c2275726c223a2268747470733a2f2f6578616d706c652e636f6d2f6d222c22686561646572223a7b22436f6e74656e742d54797065223a5b22746578742f706c61696e225d7d2c22626f6479223a226232786b222c22706f6c696379223a7b2276223a312c22666c616773223a302c22626f726e223a313736373232353630303030303030303030302c226c69666574696d65223a333630303030303030303030307d7d",
	}
	want := &tiercache.Response{Status: 200, URL: "https://example.com/m", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("old")}
	for _, c := range codecs {
		data, _ := hex.DecodeString(old[c.name])
		got, pol, err := c.c.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkResponse(t, got, want)
		if pol.Metadata() != nil || pol.TTL(time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)) != 30*time.Minute {
			t.Fatalf("%s: policy %v", c.name, pol.Metadata())
		}
	}
}
