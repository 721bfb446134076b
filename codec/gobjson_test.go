package codec

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
)

// gobBytes gob-encodes an arbitrary envelope value.
func gobBytes(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGobDecodeErrors(t *testing.T) {
	pb, _ := tiercache.NewTTLPolicy(time.Minute).MarshalBinary()
	good := gobBytes(t, &gobEntry{Version: GobVersion, Status: 200, Policy: pb})
	if _, _, err := (Gob{}).Decode(good); err != nil {
		t.Fatalf("valid envelope: %v", err)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, tiercache.ErrCorrupt},
		{"garbage", []byte("not a gob stream"), tiercache.ErrCorrupt},
		{"binary input", binaryEntry(t), tiercache.ErrCorrupt},
		{"two values", append(bytes.Clone(good), good...), tiercache.ErrCorrupt},
		{"wrong type", gobBytes(t, struct{ Version string }{"1"}), tiercache.ErrCorrupt},
		{"no version", gobBytes(t, &gobEntry{Status: 200, Policy: pb}), tiercache.ErrVersion},
		{"status", gobBytes(t, &gobEntry{Version: 1, Status: 1000, Policy: pb}), tiercache.ErrCorrupt},
		{"no policy", gobBytes(t, &gobEntry{Version: 1, Status: 200}), tiercache.ErrCorrupt},
		{"policy version", gobBytes(t, &gobEntry{Version: 1, Policy: append([]byte{9}, pb[1:]...)}), tiercache.ErrVersion},
		{"duplicate header", gobBytes(t, &gobEntry{Version: 1, Policy: pb,
			Header: []gobField{{"A", []string{"1"}}, {"A", []string{"2"}}}}), tiercache.ErrCorrupt},
	}
	for _, tc := range cases {
		if _, _, err := (Gob{}).Decode(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	pol := `{"v":1,"flags":0,"born":0,"lifetime":60000000000}`
	cases := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", tiercache.ErrCorrupt},
		{"garbage", "not json", tiercache.ErrCorrupt},
		{"array", "[1,2]", tiercache.ErrCorrupt},
		{"two values", `{"v":1,"policy":` + pol + `} {}`, tiercache.ErrCorrupt},
		{"status type", `{"v":1,"status":"200","policy":` + pol + `}`, tiercache.ErrCorrupt},
		{"status range", `{"v":1,"status":1000,"policy":` + pol + `}`, tiercache.ErrCorrupt},
		{"bad base64", `{"v":1,"body":"!!","policy":` + pol + `}`, tiercache.ErrCorrupt},
		{"no policy", `{"v":1,"status":200}`, tiercache.ErrCorrupt},
		{"null policy", `{"v":1,"status":200,"policy":null}`, tiercache.ErrCorrupt},
		{"policy version", `{"v":1,"policy":{"v":7}}`, tiercache.ErrVersion},
		{"policy flags", `{"v":1,"policy":{"v":1,"flags":65535}}`, tiercache.ErrCorrupt},
		{"negative lifetime", `{"v":1,"policy":{"v":1,"lifetime":-1}}`, tiercache.ErrCorrupt},
		{"version 2", `{"v":2,"policy":` + pol + `}`, tiercache.ErrVersion},
		{"binary input", string(binaryEntry(t)), tiercache.ErrCorrupt},
	}
	for _, tc := range cases {
		if _, _, err := (JSON{}).Decode([]byte(tc.data)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
	resp, _, err := JSON{}.Decode([]byte(` {"v":1,"status":200,"extra":[1],"policy":` + pol + "}\n"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("valid entry with white space and an unknown member: %+v, %v", resp, err)
	}
}

// TestUncheckedFlips flips every byte of Gob and JSON encodings. Without a
// checksum a flip may decode to other values; it must never panic, and an
// error must wrap a decoding sentinel.
func TestUncheckedFlips(t *testing.T) {
	for _, c := range []struct {
		name string
		c    Codec
	}{{"Gob", Gob{}}, {"JSON", JSON{}}} {
		data := mustEncode(t, c.c)
		for i := range data {
			bad := bytes.Clone(data)
			bad[i] ^= 0x55
			if _, _, err := c.c.Decode(bad); err != nil {
				checkDecodeErr(t, err, fmt.Sprintf("%s byte %d", c.name, i))
			}
		}
	}
}
