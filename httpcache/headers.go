package httpcache

import (
	"net/http"
	"slices"
	"time"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// unstoredField reports the fields never stored, never served from the
// cache and never copied by a 304 update: hop-by-hop fields (RFC 9110
// §7.6.1), fields specific to the proxy (RFC 9111 §3.1), the trailer
// announcement (trailers are not stored), the Cache-Status of upstream
// caches (it describes their handling of the original request) and the
// Transport's own variant-index fields. k is a canonical field name.
func unstoredField(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization",
		"Cache-Status", indexField, variantsField:
		return true
	}
	return false
}

// privateField reports the fields a shared cache never stores or serves,
// so that one client's response metadata is not replayed to another:
// Set-Cookie (stored only when the response is public or has s-maxage,
// see tiercache.WithShared, and then without the cookie).
func privateField(k string, shared bool) bool { return shared && k == "Set-Cookie" }

// storedHeader returns the header to store for a response received at
// respTime: a copy of src without unstored fields, the fields its
// Connection header lists and, in a shared cache, private fields, with a
// Date added when the origin sent none (RFC 9110 §6.6.1).
func storedHeader(src http.Header, respTime time.Time, shared bool) http.Header {
	h := src.Clone()
	if h == nil {
		h = http.Header{}
	}
	skip := connectionFields(src)
	for k := range h {
		if unstoredField(k) || privateField(k, shared) || slices.Contains(skip, k) {
			delete(h, k)
		}
	}
	if len(h["Date"]) == 0 {
		h["Date"] = []string{respTime.UTC().Format(http.TimeFormat)}
	}
	return h
}

// connectionFields returns the canonical field names listed in Connection.
func connectionFields(h http.Header) []string {
	if len(h["Connection"]) == 0 {
		return nil
	}
	names, _ := httpfield.FieldNames(h["Connection"])
	return names
}

// mergeHeader returns the stored header updated by a 304 response's header
// (RFC 9111 §3.2, §4.3.4): every field of fresh replaces the stored one,
// except the fields storedHeader never keeps, Content-Length, and the
// fields that describe the stored body, which a 304 does not replace
// (§3.2, "header fields that the cache's stored response depends upon"):
//   - Content-Encoding: the stored body may have been decoded on receipt
//     (http.Transport removes a gzip coding it asked for itself, but
//     leaves the header of a 304 or a HEAD response alone);
//   - Content-Range: a stored response is complete, so a range can only
//     mislabel it (§3.2 allows ignoring it);
//   - Content-MD5: a digest of the stored body, which the 304 does not
//     carry.
//
// The stored Age is dropped (the 304's age applies) and a Date is added
// when the 304 has none.
func mergeHeader(stored, fresh http.Header, respTime time.Time, shared bool) http.Header {
	h := stored.Clone()
	delete(h, "Age")
	skip := connectionFields(fresh)
	for k, vs := range fresh {
		switch {
		case k == "Content-Length" || k == "Content-Encoding" || k == "Content-Range" || k == "Content-Md5":
		case unstoredField(k) || privateField(k, shared) || slices.Contains(skip, k):
		default:
			h[k] = slices.Clone(vs)
		}
	}
	if len(fresh["Date"]) == 0 {
		h["Date"] = []string{respTime.UTC().Format(http.TimeFormat)}
	}
	return h
}

// ageValue formats an Age field value: whole seconds, capped at 2^31
// (RFC 9111 §5.1).
func ageValue(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s <= 0:
		return "0"
	case s > 1<<31:
		s = 1 << 31
	}
	return itoa(s)
}

// statusLine returns the Status text of an http.Response for code.
func statusLine(code int) string {
	switch code {
	case http.StatusOK:
		return "200 OK"
	case http.StatusNotModified:
		return "304 Not Modified"
	case http.StatusPartialContent:
		return "206 Partial Content"
	}
	return itoa(int64(code)) + " " + http.StatusText(code)
}
