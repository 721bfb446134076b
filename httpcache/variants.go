package httpcache

import (
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/httpfield"
)

// Variants (RFC 9111 §4.1). A response without Vary is stored under the
// request's primary key. A response with Vary is stored under a variant
// key, and the primary key holds a small index entry:
//
//	Status 200, no body
//	Tiercache-Variant-Index: <nonce>      (16 hex digits, random)
//	Vary: <field names, canonical, sorted, ", "-separated>
//	Tiercache-Variants: <hash> <hash> ... (the variants written through
//	    this index, oldest first, at most maxListedVariants)
//
// The variant key is
//
//	<primary key> " vary=" <nonce> "-" <hash>
//
// where <hash> is 16 hex digits of FNV-1a 64 over name "\x00" normalised
// value "\x00" for each Vary field.
//
// A lookup reads the primary key; on an index it computes the variant key
// from the request's header values and reads it, then checks
// Policy.VaryMatches (so a hash collision is a miss, never a wrong hit).
// New variants with the same Vary fields reuse the nonce, so they never
// evict each other. Deleting the primary key (invalidation) drops the index:
// the next index gets a new nonce, so older variants can never be selected
// again and expire on their own. The index is kept as long as the longest
// retention of the variants written through it.
//
// The list of hashes lets a 304 update every stored variant it selects
// (RFC 9111 §4.3.4, see update.go). It is best effort: two writers that add
// different variants at the same moment may each rewrite the index, and
// the variant the loser added is then missing from the list (it is still
// found by lookups, and revalidates on its own). An index written before the
// list existed lists nothing until a new variant is stored.
const (
	indexField        = "Tiercache-Variant-Index"
	variantsField     = "Tiercache-Variants"
	maxListedVariants = 64
)

// DefaultKey is the default KeyFunc: the method and the URL without its
// fragment and user information, e.g. "GET https://example.com/a?b=c". The
// URL's host is the request's Host when it overrides it (the resource is
// named by the Host sent), in lower case and without the scheme's default
// port (RFC 9110 §4.2.3), so that equivalent URIs share a key and
// invalidation finds them. An opaque URL (URL.Opaque) is keyed by its
// scheme, that host and the path it sends. Credentials in the URL never
// reach a key, so they never reach a shared tier.
func DefaultKey(req *http.Request) string {
	return req.Method + " " + keyURL(req.URL, req.Host)
}

// keyURL returns u as a key names it: without fragment and userinfo, with
// host (when not empty) as its authority, normalised.
func keyURL(u *url.URL, host string) string {
	if host == "" {
		host = u.Host
	}
	host = normalizeHost(u.Scheme, host)
	if u.Opaque != "" {
		return opaqueKeyURL(u, host)
	}
	if u.Fragment != "" || u.RawFragment != "" || u.User != nil || host != u.Host {
		c := *u
		c.Fragment, c.RawFragment, c.User, c.Host = "", "", nil, host
		u = &c
	}
	return u.String()
}

// opaqueKeyURL keys an opaque URL by scheme, host and the request target
// it sends: the opaque part, without the authority of a "//host/path" form.
func opaqueKeyURL(u *url.URL, host string) string {
	target := u.Opaque
	if rest, ok := strings.CutPrefix(target, "//"); ok {
		_, target, _ = strings.Cut(rest, "/")
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	if u.RawQuery != "" || u.ForceQuery {
		target += "?" + u.RawQuery
	}
	return u.Scheme + "://" + host + target
}

// normalizeHost returns host in lower case, without an empty port or the
// default port of scheme. It allocates only when it changes host.
func normalizeHost(scheme, host string) string {
	if strings.ContainsFunc(host, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		host = strings.ToLower(host)
	}
	switch {
	case strings.HasSuffix(host, ":"):
		host = host[:len(host)-1]
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-4]
	}
	return host
}

// primaryKey returns the key of req; a HEAD request uses its GET's key.
func (t *Transport) primaryKey(req *http.Request) string {
	if req.Method == http.MethodGet {
		return t.opts.key(req)
	}
	r := *req
	r.Method = http.MethodGet
	return t.opts.key(&r)
}

// lookup returns the stored response selected for the request, or nil and
// the Cache-Status fwd reason of the miss. A failing Get is a miss. The
// entry is c.found: a later lookup on c overwrites it.
func (c *call) lookup() (*entry, string) {
	resp, pol, err := c.t.m.Get(c.req.Context(), c.key)
	if err != nil {
		c.t.report(c.req, "get", c.key, err)
		c.detail = "cache-error"
		return nil, fwdURIMiss
	}
	if resp == nil {
		return nil, fwdURIMiss
	}
	key := c.key
	if nonce := resp.Header[indexField]; len(nonce) == 1 {
		key = variantKey(c.key, nonce[0], varyNames(resp.Header), c.req.Header)
		if resp, pol, err = c.t.m.Get(c.req.Context(), key); err != nil {
			c.t.report(c.req, "get", key, err)
			c.detail = "cache-error"
			return nil, fwdVaryMiss
		}
	}
	if resp == nil || pol == nil || !pol.VaryMatches(c.req.Header) || len(resp.Header[indexField]) > 0 {
		return nil, fwdVaryMiss
	}
	if !c.usable(pol) {
		return nil, fwdMiss
	}
	c.found = entry{key: key, resp: resp, pol: pol}
	return &c.found, ""
}

// current reports whether the generations stored in pol are all current,
// without counting or labelling anything (for entries other than the one
// served).
func (c *call) current(pol *tiercache.Policy) bool {
	return c.t.purge == nil || c.t.purge.check(c.req, pol, c.now) == checkCurrent
}

// usable reports whether the generations stored in pol are still current
// (WithPurge). A purged entry is counted and is a miss with detail
// "purged"; one whose generations cannot be read is a miss with detail
// "cache-error".
func (c *call) usable(pol *tiercache.Policy) bool {
	if c.t.purge == nil {
		return true
	}
	switch c.t.purge.check(c.req, pol, c.now) {
	case checkPurged:
		c.t.purge.purged.Add(1)
		c.detail = "purged"
		return false
	case checkUnknown:
		c.detail = "cache-error"
		return false
	}
	return true
}

// store writes resp under the request's key, through a variant index when
// it varies, and reports whether it was stored. It counts the store or
// why it was not; errors go to the ErrorHook.
func (c *call) store(resp *tiercache.Response, pol *tiercache.Policy, now time.Time) bool {
	names := varyNames(resp.Header)
	if len(names) == 0 {
		return c.storeAt(c.key, resp, pol, now)
	}
	return c.storeVariant(names, variantHash(names, c.req.Header), resp, pol, now)
}

// storeVariant writes resp as the variant hash of the Vary fields names,
// listing it in the index and keeping the index at least as long as resp.
func (c *call) storeVariant(names []string, hash string, resp *tiercache.Response, pol *tiercache.Policy, now time.Time) bool {
	keep := pol.KeepFor(now)
	if keep <= 0 {
		c.shard.refuse(refNotRetained)
		return false
	}
	nonce, ok := c.indexNonce(names, hash, keep, now)
	if !ok {
		c.shard.refuse(refErrors)
		return false
	}
	return c.storeAt(variantKeyOf(c.key, nonce, hash), resp, pol, now)
}

// storeAt puts a response under key, after the store hook (WithStoreHook),
// and counts the outcome.
func (c *call) storeAt(key string, resp *tiercache.Response, pol *tiercache.Policy, now time.Time) bool {
	if f := c.t.opts.onStore; f != nil {
		n := len(resp.Body)
		f(c.req, resp)
		if len(resp.Body) != n && len(resp.Header["Content-Length"]) > 0 {
			resp.Header["Content-Length"] = []string{itoa(int64(len(resp.Body)))}
		}
	}
	switch {
	case pol.KeepFor(now) <= 0:
		c.put(key, resp, pol) // removes an older response (the Manager contract)
		c.shard.refuse(refNotRetained)
		return false
	case !c.put(key, resp, pol):
		c.shard.refuse(refErrors)
		return false
	}
	c.shard.stores.Add(1)
	return true
}

// indexNonce returns the nonce of the variant index for names, writing a
// new index, or rewriting the old one to list hash or to extend its
// retention to keep, when needed.
func (c *call) indexNonce(names []string, hash string, keep time.Duration, now time.Time) (string, bool) {
	joined := strings.Join(names, ", ")
	old, opol, err := c.t.m.Get(c.ctx(), c.key)
	if err != nil {
		c.t.report(c.req, "get", c.key, err)
		return "", false
	}
	var nonce string
	var listed []string
	if old != nil && len(old.Header[indexField]) == 1 && old.Header.Get("Vary") == joined {
		nonce = old.Header[indexField][0]
		listed = listedVariants(old.Header)
		if opol != nil && opol.TTL(now) >= keep && slices.Contains(listed, hash) {
			return nonce, true
		}
		if opol != nil {
			keep = max(keep, opol.TTL(now))
		}
	}
	if nonce == "" {
		nonce = strconv.FormatUint(rand.Uint64()|1<<63, 16)
	}
	if !slices.Contains(listed, hash) {
		listed = append(listed, hash)
		if n := len(listed) - maxListedVariants; n > 0 {
			listed = listed[n:]
		}
	}
	idx := &tiercache.Response{
		Status: http.StatusOK,
		Header: http.Header{indexField: {nonce}, "Vary": {joined}, variantsField: {strings.Join(listed, " ")}},
		URL:    storedURL(c.req),
	}
	ipol := tiercache.NewTTLPolicy(keep, tiercache.WithNow(now), tiercache.WithMaxTTL(keep))
	return nonce, c.put(c.key, idx, ipol)
}

// listedVariants returns the variant hashes an index lists.
func listedVariants(h http.Header) []string {
	return strings.Fields(h.Get(variantsField))
}

func (c *call) put(key string, resp *tiercache.Response, pol *tiercache.Policy) bool {
	if _, err := c.t.m.Put(c.ctx(), key, resp, pol); err != nil {
		c.t.report(c.req, "put", key, err)
		return false
	}
	return true
}

// varyNames returns the canonical field names of h's Vary, sorted and
// without duplicates ("*" left out).
func varyNames(h http.Header) []string {
	names, _ := httpfield.FieldNames(h["Vary"])
	return names
}

// variantKey derives the key of the variant selected by the request header
// reqHeader for the Vary fields names.
func variantKey(primary, nonce string, names []string, reqHeader http.Header) string {
	return variantKeyOf(primary, nonce, variantHash(names, reqHeader))
}

func variantKeyOf(primary, nonce, hash string) string {
	return primary + " vary=" + nonce + "-" + hash
}

// variantHash hashes the normalised values of the Vary fields names in
// reqHeader.
func variantHash(names []string, reqHeader http.Header) string {
	h := fnv.New64a()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(httpfield.Normalize(reqHeader.Values(n))))
		h.Write([]byte{0})
	}
	var sum [8]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
