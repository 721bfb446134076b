package keyhash

import (
	"strings"
	"testing"
)

// TestKey pins the format: plain keys behind the prefix, every other key
// as the prefix, "tc~h~" and the unpadded base64url SHA-256 of the key.
func TestKey(t *testing.T) {
	tests := []struct {
		prefix, key string
		fits        bool
		want        string
	}{
		{"", "a", true, "a"},
		{"ns:", "a", true, "ns:a"},
		{"ns:", "a", false, "ns:tc~h~ypeBEsobvcr6wjGzmiPcTaeG7_gUfE5yuYB3ha_uSLs"},
		{"", "", false, "tc~h~47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
		{"", "tc~x", true, "tc~h~1iRfY9phu9lHSbfoA68Q65zACiyKY1Nmy9C27Z-nSSc"},
		{"p", "tc-x", true, "ptc-x"},
		{strings.Repeat("p", 300), "a", false, strings.Repeat("p", 300) + "tc~h~ypeBEsobvcr6wjGzmiPcTaeG7_gUfE5yuYB3ha_uSLs"},
	}
	for _, tc := range tests {
		if got := Key(tc.prefix, tc.key, tc.fits); got != tc.want {
			t.Errorf("Key(%q, %q, %v) = %q, want %q", tc.prefix, tc.key, tc.fits, got, tc.want)
		}
	}
	if got := Key("", "a", false); len(got) != len(Tag)+Len || !strings.HasPrefix(got, Tag) {
		t.Errorf("hashed key %q: want %s and %d characters", got, Tag, Len)
	}
}

func TestKeyAllocs(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		fits   bool
		want   float64
	}{{"", true, 0}, {"ns:", true, 1}, {"ns:", false, 2}} {
		key := "GET:https://example.com/some/path?query=1"
		if got := testing.AllocsPerRun(100, func() { _ = Key(tc.prefix, key, tc.fits) }); got > tc.want {
			t.Errorf("Key(%q, key, %v) allocates %v times, want at most %v", tc.prefix, tc.fits, got, tc.want)
		}
	}
}
