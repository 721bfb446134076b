package memcached

import (
	"fmt"

	"github.com/tiercache/tiercache/internal/keyfmt"
	"github.com/tiercache/tiercache/internal/keyhash"
)

// Key scheme. Every memcached key this package writes is Config.Prefix
// followed by one of:
//
//	key                       the caller's key itself, when it is legal
//	tc~h~<base64url(sha256)>  a hashed key: 43 characters of unpadded
//	                          base64url of the SHA-256 of the caller's key
//	tc~c~<gen>~<i>            chunk i of a large value; gen is the 32 hex
//	                          digits of the value's random generation id
//
// A caller's key is used as is (readable in memcached-tool dumps) when it is
// not empty, has no byte <= 0x20 (space, control characters) and no 0x7f,
// does not start with the reserved "tc~", and fits with the prefix in
// memcached's 250 bytes. Any other key is hashed. Because plain keys never
// start with "tc~", a plain key can never equal a hashed or chunk key, and
// two distinct keys map to one item only through a SHA-256 collision.
const (
	// MaxKeyLen is memcached's key length limit in bytes.
	MaxKeyLen = 250
	// MaxPrefixLen is the longest Config.Prefix accepted: a prefix plus a
	// hashed key or a chunk key still fits in MaxKeyLen.
	MaxPrefixLen = 128

	hashedTag = keyhash.Tag             // hashed keys
	chunkTag  = keyhash.Reserved + "c~" // chunk keys
)

// legalKey reports whether k may be sent to memcached as a key: 1 to 250
// bytes, none of them a space, a control character or DEL.
func legalKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// itemKey maps a caller's key to its memcached key (see the key scheme and
// internal/keyhash). A plain key without prefix costs one scan and no
// allocation; a prefixed key costs one allocation; a hashed key costs a
// SHA-256 and at most two.
func itemKey(prefix, key string) string {
	return keyhash.Key(prefix, key, len(prefix)+len(key) <= MaxKeyLen && legalKey(key))
}

// chunkKey returns the memcached key of chunk i of the value with
// generation id gen.
func chunkKey(prefix string, gen [genLen]byte, i int) string {
	return fmt.Sprintf("%s%s%x~%d", prefix, chunkTag, gen, i)
}

// checkPrefix validates Config.Prefix.
func checkPrefix(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > MaxPrefixLen || !legalKey(p) {
		return fmt.Errorf("prefix %s: want at most %d bytes with no spaces or control characters", keyfmt.Quote(p), MaxPrefixLen)
	}
	return nil
}
