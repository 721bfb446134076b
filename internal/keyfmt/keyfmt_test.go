package keyfmt

import (
	"strconv"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("k", 1<<20)
	tests := []struct {
		name, key string
		want      string // exact result, or a prefix when prefix is set
		prefix    bool
	}{
		{"empty", "", `""`, false},
		{"short", "GET /a b", `"GET /a b"`, false},
		{"control bytes", "a\x00\n", `"a\x00\n"`, false},
		{"at limit", strings.Repeat("x", MaxQuoted), strconv.Quote(strings.Repeat("x", MaxQuoted)), false},
		{"long", long, strconv.Quote(long[:MaxQuoted]) + "...(1048576 bytes, sha256 ", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Quote(tc.key)
			if tc.prefix && !strings.HasPrefix(got, tc.want) || !tc.prefix && got != tc.want {
				t.Fatalf("Quote = %q, want %q (prefix %v)", got, tc.want, tc.prefix)
			}
			if len(got) > 4*MaxQuoted+60 {
				t.Fatalf("Quote is %d bytes long", len(got))
			}
		})
	}
	if Quote(long) == Quote(long[:len(long)-1]+"j") {
		t.Fatal("two long keys that differ only at the end quote the same")
	}
}
