package memcached

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

var errCacheMiss = memcache.ErrCacheMiss

func TestExpiration(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const day = 24 * time.Hour
	tests := []struct {
		ttl  time.Duration
		want int32
	}{
		{time.Nanosecond, 1},
		{999 * time.Millisecond, 1},
		{time.Second, 1},
		{1001 * time.Millisecond, 2},
		{90 * time.Second, 90},
		{30 * day, 2_592_000},                     // the last relative value
		{30*day + time.Nanosecond, 1_702_592_001}, // rounded up, then absolute
		{31 * day, 1_700_000_000 + 31*86400},
		{365 * day, 1_700_000_000 + 365*86400},
		{math.MaxInt64, math.MaxInt32}, // capped, never 0 or negative
	}
	for _, tc := range tests {
		if got := expiration(tc.ttl, now); got != tc.want {
			t.Errorf("expiration(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}

func TestItemKey(t *testing.T) {
	tests := []struct {
		prefix, key string
		plain       bool
	}{
		{"", "a", true},
		{"ns:", "a", true},
		{"", "", false},
		{"", strings.Repeat("k", 250), true},
		{"ns:", strings.Repeat("k", 247), true},
		{"ns:", strings.Repeat("k", 248), false},
		{"", "tc~h~x", false},
		{"ns:", "tc~", false},
		{"", "tc-not-reserved", true},
		{"", "a b", false},
	}
	for _, tc := range tests {
		ik := itemKey(tc.prefix, tc.key)
		if got := ik == tc.prefix+tc.key; got != tc.plain {
			t.Errorf("itemKey(%q, %q) = %q, plain = %v, want %v", tc.prefix, shortKey(tc.key), ik, got, tc.plain)
		}
		if !tc.plain && (!strings.HasPrefix(ik, tc.prefix+hashedTag) || len(ik) != len(tc.prefix)+len(hashedTag)+43) {
			t.Errorf("itemKey(%q, %q) = %q, want prefix+%s+43 chars", tc.prefix, shortKey(tc.key), ik, hashedTag)
		}
		if !legalKey(ik) {
			t.Errorf("itemKey(%q, %q) = %q is illegal", tc.prefix, shortKey(tc.key), ik)
		}
	}
	if itemKey("", "a b") == itemKey("", "a  b") {
		t.Error("distinct hashed keys collide")
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := manifest{gen: [genLen]byte{1, 2, 3}, total: 3 << 20, chunkSize: 1 << 20, sum: 0xdeadbeef}
	b := m.marshal()
	if len(b) != manifestLen {
		t.Fatalf("manifest is %d bytes, want %d", len(b), manifestLen)
	}
	got, err := parseManifest(b, DefaultMaxValueSize)
	if err != nil || got != m {
		t.Fatalf("parseManifest = %+v, %v; want %+v", got, err, m)
	}
	for i := range b { // every single-byte change is caught
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x40
		if _, err := parseManifest(bad, DefaultMaxValueSize); err == nil {
			t.Errorf("flipping byte %d not detected", i)
		}
	}
	if _, err := parseManifest(b, 1<<20); err == nil {
		t.Error("manifest over MaxValueSize accepted")
	}
	if _, err := parseManifest(b[:10], DefaultMaxValueSize); err == nil {
		t.Error("truncated manifest accepted")
	}
}
