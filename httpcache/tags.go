package httpcache

import (
	"net/http"
	"slices"
	"strconv"
)

// Tags are read from the response header fields WithTagHeaders names
// (Surrogate-Key and Cache-Tag by default). Each value is split at commas
// and white space, so "a b", "a, b" and two field lines "a" and "b" all
// give the tags a and b. A tag is identified by its 64-bit FNV-1a hash:
// the entries and the purge store only hold hashes (two tags whose hashes
// collide purge each other's entries, never fewer).

// FNV-1a 64 parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// tagHash returns the FNV-1a 64 hash of tag.
func tagHash(tag string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(tag); i++ {
		h = (h ^ uint64(tag[i])) * fnvPrime
	}
	return h
}

// urlBuckets is the number of URL buckets. Purging a URL moves the
// generation of its bucket, so it also invalidates the entries of the other
// URLs in that bucket (1/urlBuckets of the cache, fetched again on their
// next request): the price of needing no record per URL.
const urlBuckets = 1024

// urlBucketHashes are the tag hashes of the URL buckets: the hash of the
// reserved tag "\x00url <n>" (header values cannot hold NUL, so no
// response tag equals one).
var urlBucketHashes = func() (h [urlBuckets]uint64) {
	for i := range h {
		h[i] = tagHash("\x00url " + strconv.Itoa(i))
	}
	return h
}()

// urlBucketHash returns the tag hash of the bucket of the primary key key.
func urlBucketHash(key string) uint64 { return urlBucketHashes[tagHash(key)%urlBuckets] }

// appendTags appends to dst the hashes of the tags in the fields names of
// h, each once. ok is false when h holds more than MaxTags tags or one
// longer than MaxTagLength: such a response must not be stored, since a
// tag left out could not purge it.
func appendTags(dst []uint64, h http.Header, names []string) (_ []uint64, ok bool) {
	n := len(dst)
	for _, name := range names {
		for _, line := range h[name] {
			for start, i := 0, 0; i <= len(line); i++ {
				if i < len(line) && !isTagSeparator(line[i]) {
					continue
				}
				if tag := line[start:i]; tag != "" {
					if len(tag) > MaxTagLength || len(dst)-n >= MaxTags {
						return dst, false
					}
					if hh := tagHash(tag); !slices.Contains(dst[n:], hh) {
						dst = append(dst, hh)
					}
				}
				start = i + 1
			}
		}
	}
	return dst, true
}

func isTagSeparator(b byte) bool { return b == ',' || b == ' ' || b == '\t' }

// tagField reports whether k is one of the tag fields the Transport strips
// from what it returns.
func (t *Transport) tagField(k string) bool {
	return t.stripTags && slices.Contains(t.opts.tagHeaders, k)
}

// stripTagFields removes the tag fields from a response header returned to
// a caller or client (they stay in what is stored).
func (t *Transport) stripTagFields(h http.Header) {
	if !t.stripTags {
		return
	}
	for _, name := range t.opts.tagHeaders {
		delete(h, name)
	}
}
