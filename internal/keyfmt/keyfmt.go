// Package keyfmt formats cache keys for error and log messages, so that a
// hostile or huge key (a rejected 1 MiB key) cannot blow up a message.
package keyfmt

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// MaxQuoted is the number of leading key bytes Quote keeps.
const MaxQuoted = 64

// Quote returns key quoted as by %q when it is at most MaxQuoted bytes long.
// A longer key becomes its first MaxQuoted bytes, quoted, followed by its
// length and the first 8 bytes of its SHA-256 in hex, e.g.
// "GET https://example.com/aaaa..."...(1048576 bytes, sha256 3f2a...). The
// result is at most ~4*MaxQuoted+60 bytes for any key. A short key costs
// one allocation.
func Quote(key string) string {
	if len(key) <= MaxQuoted {
		return strconv.Quote(key)
	}
	sum := sha256.Sum256([]byte(key))
	return strconv.Quote(key[:MaxQuoted]) + "...(" + strconv.Itoa(len(key)) +
		" bytes, sha256 " + hex.EncodeToString(sum[:8]) + ")"
}
