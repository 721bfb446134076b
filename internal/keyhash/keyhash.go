// Package keyhash maps a caller's key to the key a remote backend
// (memcached, Redis) stores it under: the key itself behind the backend's
// prefix when the backend accepts it, otherwise a fixed-length hash:
//
//	prefix + key                    a plain key
//	prefix + "tc~h~" + <43 chars>   a hashed key: unpadded base64url of
//	                                the SHA-256 of the caller's key
//
// A plain key never starts with the reserved "tc~", so it can never equal
// a hashed key (or any other key a backend generates under "tc~"): two
// distinct keys share a backend key only through a SHA-256 collision. The
// format is persistent (data written by one version is read by the next):
// it must never change; TestKey pins it.
package keyhash

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

const (
	// Reserved starts every key a backend generates; a caller's key that
	// starts with it is hashed.
	Reserved = "tc~"
	// Tag starts a hashed key, after the prefix.
	Tag = "tc~h~"
	// Len is the length of the hash after Tag: unpadded base64url of the
	// 32 bytes of a SHA-256.
	Len = 43

	// stackPrefix is the longest prefix hashed into a stack buffer;
	// longer ones cost one more allocation.
	stackPrefix = 256
)

// Key returns prefix+key when fits (the backend accepts key as it is,
// with the prefix) and key does not start with Reserved, and
// prefix+Tag+hash otherwise. A plain key costs no allocation without a
// prefix and one with it; a hashed key costs a SHA-256 and at most two
// allocations (three with a prefix over 256 bytes).
func Key(prefix, key string, fits bool) string {
	if fits && !strings.HasPrefix(key, Reserved) {
		if prefix == "" {
			return key
		}
		return prefix + key
	}
	return hashed(prefix, key)
}

// hashed returns prefix+Tag+base64url(sha256(key)).
func hashed(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	var buf [stackPrefix + len(Tag) + Len]byte
	b := append(append(buf[:0], prefix...), Tag...)
	return string(base64.RawURLEncoding.AppendEncode(b, sum[:]))
}
