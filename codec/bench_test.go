package codec

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/tiercache/tiercache"
)

// benchEntry returns a 16 KiB response with the headers of a typical CDN
// response and its policy.
func benchEntry(b *testing.B) (*tiercache.Response, *tiercache.Policy) {
	b.Helper()
	h := http.Header{
		"Content-Type":                {"text/html; charset=utf-8"},
		"Cache-Control":               {"public, max-age=600, stale-while-revalidate=60"},
		"Date":                        {base.Format(http.TimeFormat)},
		"Etag":                        {`"5e1f-2b6ac2f3b8d1c"`},
		"Last-Modified":               {"Mon, 03 Mar 2025 10:00:00 GMT"},
		"Vary":                        {"Accept-Encoding"},
		"Server":                      {"nginx/1.25.3"},
		"X-Request-Id":                {"7f9c2ba4-e88f-4e6d-9b1a-3c5d2e8f1a7b"},
		"Strict-Transport-Security":   {"max-age=63072000; includeSubDomains; preload"},
		"Content-Security-Policy":     {"default-src 'self'; img-src 'self' https://cdn.example.com; script-src 'self'"},
		"Set-Cookie":                  {"session=abc123; Path=/; HttpOnly; Secure", "theme=dark; Path=/"},
		"X-Content-Type-Options":      {"nosniff"},
		"Access-Control-Allow-Origin": {"*"},
	}
	body := bytes.Repeat([]byte("<p>The quick brown fox jumps over the lazy dog.</p>\n"), 16<<10/52+1)[:16<<10]
	req := &http.Request{Method: http.MethodGet, Header: http.Header{"Accept-Encoding": {"gzip, br"}}}
	pol := tiercache.NewPolicy(req, &http.Response{StatusCode: 200, Header: h}, tiercache.WithNow(base))
	return &tiercache.Response{Status: 200, Header: h, Body: body, URL: "https://www.example.com/articles/42?ref=home"}, pol
}

func BenchmarkEncode(b *testing.B) {
	resp, pol := benchEntry(b)
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			enc, err := c.c.Encode(resp, pol)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(resp.Body)))
			for b.Loop() {
				if _, err := c.c.Encode(resp, pol); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "bytes/entry")
		})
	}
}

func BenchmarkBinaryAppend(b *testing.B) {
	resp, pol := benchEntry(b)
	dst, err := Binary{}.Append(nil, resp, pol)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(resp.Body)))
	for b.Loop() {
		dst, _ = Binary{}.Append(dst[:0], resp, pol)
	}
	b.ReportMetric(float64(len(dst)), "bytes/entry")
}

func BenchmarkDecode(b *testing.B) {
	resp, pol := benchEntry(b)
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			enc, err := c.c.Encode(resp, pol)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(resp.Body)))
			for b.Loop() {
				if _, _, err := c.c.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "bytes/entry")
		})
	}
}
