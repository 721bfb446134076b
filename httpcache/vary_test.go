package httpcache

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func varyOrigin(e *env) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language, Accept-Encoding")
		io.WriteString(w, r.Header.Get("Accept-Language")+"/"+itoa(e.hits.Load()))
	}
}

func TestVaryTwoVariants(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(varyOrigin(e))
		steps := []struct {
			hdr    []string
			body   string
			status string
		}{
			{[]string{"Accept-Language: en"}, "en/1", "tiercache; fwd=uri-miss; stored"},
			{[]string{"Accept-Language: fr"}, "fr/2", "tiercache; fwd=vary-miss; stored"},
			{[]string{"Accept-Language: en"}, "en/1", "tiercache; hit"},
			{[]string{"Accept-Language: fr"}, "fr/2", "tiercache; hit"},
			{nil, "/3", "tiercache; fwd=vary-miss; stored"},
			{nil, "/3", "tiercache; hit"},
			// Normalised comparison: whitespace and line splitting do not matter.
			{[]string{"Accept-Language: en", "Accept-Encoding: gzip,br"}, "en/4", "tiercache; fwd=vary-miss"},
			{[]string{"Accept-Language: en", "Accept-Encoding: gzip ,  br"}, "en/4", "tiercache; hit"},
			{[]string{"Accept-Language: en", "Accept-Encoding: gzip", "Accept-Encoding: br"}, "en/4", "tiercache; hit"},
			{[]string{"Accept-Language: en", "Accept-Encoding: br, gzip"}, "en/5", "tiercache; fwd=vary-miss"},
		}
		for i, s := range steps {
			r := e.get("/v", s.hdr...)
			if r.body != s.body || !strings.HasPrefix(r.status(), s.status) {
				t.Fatalf("step %d: got %q %q, want %q %q", i, r.body, r.status(), s.body, s.status)
			}
		}
	})
}

func TestVaryInvalidationDropsAllVariants(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(varyOrigin(e))
		e.get("/v", "Accept-Language: en")
		e.get("/v", "Accept-Language: fr")
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			varyOrigin(e)(w, r)
		})
		e.do(http.MethodPost, "/v")
		expect(t, e.get("/v", "Accept-Language: en"), 200, "en/4", "tiercache; fwd=uri-miss")
		expect(t, e.get("/v", "Accept-Language: fr"), 200, "fr/5", "tiercache; fwd=vary-miss")
	})
}

func TestVaryVariantOutlivesIndex(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		// A later variant with a longer lifetime extends the index.
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Accept-Language")
			if r.Header.Get("Accept-Language") == "en" {
				w.Header().Set("Cache-Control", "max-age=10")
			} else {
				w.Header().Set("Cache-Control", "max-age=100")
			}
			io.WriteString(w, r.Header.Get("Accept-Language"))
		})
		e.get("/l", "Accept-Language: en")
		e.get("/l", "Accept-Language: fr")
		e.clk.Advance(50 * time.Second)
		expect(t, e.get("/l", "Accept-Language: fr"), 200, "fr", "tiercache; hit")
	})
}
