package redis

import "github.com/tiercache/tiercache/internal/keyhash"

// Key scheme. Every Redis key this package writes is Config.Prefix
// followed by one of:
//
//	key                       the caller's key itself, byte for byte
//	tc~h~<base64url(sha256)>  a hashed key: 43 characters of unpadded
//	                          base64url of the SHA-256 of the caller's key
//
// Redis keys are binary-safe, so a key with spaces, newlines, NUL or any
// other byte is stored as it is (and stays readable with redis-cli). Only
// a key longer than MaxKeyLen bytes, the empty key and a key starting with
// the reserved "tc~" are hashed: long keys cost server memory and CPU on
// every command, and the reserved prefix keeps a plain key from ever
// equalling a hashed one, so two distinct keys share a Redis key only
// through a SHA-256 collision.
//
// In a Redis Cluster the slot of a key is computed over the part between
// the first "{" and the next "}" when there is one (a hash tag): braces in
// a Prefix put every key of the Manager in one slot, on one master.
const (
	// MaxKeyLen is the longest caller's key stored as it is; longer keys
	// are hashed. Every process sharing a Prefix must agree on it, so it is
	// a constant.
	MaxKeyLen = 1024
	// MaxPrefixLen is the longest Config.Prefix accepted.
	MaxPrefixLen = 256

	hashedTag = keyhash.Tag // hashed keys
	hashedLen = keyhash.Len // unpadded base64 of 32 bytes
)

// itemKey maps a caller's key to its Redis key (see the key scheme and
// internal/keyhash). A plain key costs one allocation with a prefix and
// none without; a hashed key costs a SHA-256 and at most two allocations.
func itemKey(prefix, key string) string {
	return keyhash.Key(prefix, key, key != "" && len(key) <= MaxKeyLen)
}
