package httpcache

import (
	"net/http"
	"slices"
	"time"

	"github.com/tiercache/tiercache/internal/httpfield"
)

// unstoredFields are never stored nor copied by a 304 update: hop-by-hop
// fields (RFC 9110 §7.6.1), fields specific to the proxy (RFC 9111 §3.1),
// the trailer announcement (trailers are not stored), the Cache-Status of
// upstream caches (it describes their handling of the original request) and
// the Transport's own variant-index marker.
var unstoredFields = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization",
	"Cache-Status", indexField, variantsField,
}

// storedHeader returns the header to store for a response received at
// respTime: a copy of src without unstoredFields and the fields its
// Connection header lists, with a Date added when the origin sent none
// (RFC 9110 §6.6.1).
func storedHeader(src http.Header, respTime time.Time) http.Header {
	h := src.Clone()
	if h == nil {
		h = http.Header{}
	}
	deleteUnstored(h, src)
	if len(h["Date"]) == 0 {
		h["Date"] = []string{respTime.UTC().Format(http.TimeFormat)}
	}
	return h
}

func deleteUnstored(h, src http.Header) {
	for _, f := range connectionFields(src) {
		delete(h, f)
	}
	for _, f := range unstoredFields {
		delete(h, f)
	}
}

// connectionFields returns the canonical field names listed in Connection.
func connectionFields(h http.Header) []string {
	names, _ := httpfield.FieldNames(h["Connection"])
	return names
}

// mergeHeader returns the stored header updated by a 304 response's header
// (RFC 9111 §3.2, §4.3.4): every field of fresh replaces the stored one,
// except unstored fields, Content-Length and Content-Encoding. The stored
// body may have been decoded on receipt (http.Transport removes a gzip
// coding it asked for itself, but leaves the header of a 304 or a HEAD
// response alone), so the stored body's coding is never relabelled (§3.2,
// fields the stored response depends upon). The stored Age is dropped (the
// 304's age applies) and a Date is added when the 304 has none.
func mergeHeader(stored, fresh http.Header, respTime time.Time) http.Header {
	h := stored.Clone()
	delete(h, "Age")
	skip := connectionFields(fresh)
	for k, vs := range fresh {
		if k == "Content-Length" || k == "Content-Encoding" || slices.Contains(unstoredFields, k) || slices.Contains(skip, k) {
			continue
		}
		h[k] = slices.Clone(vs)
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
	}
	return itoa(int64(code)) + " " + http.StatusText(code)
}
