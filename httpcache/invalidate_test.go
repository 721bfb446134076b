package httpcache

import (
	"io"
	"net/http"
	"testing"
)

func TestInvalidation(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		tests := []struct {
			name        string
			method      string
			code        int
			location    string // Location of the unsafe response
			invalidated []string
			kept        []string
		}{
			{"POST 200", http.MethodPost, 200, "", []string{"/a"}, []string{"/b"}},
			{"PUT 201 Location", http.MethodPut, 201, "/b", []string{"/a", "/b"}, nil},
			{"DELETE 204", http.MethodDelete, 204, "", []string{"/a"}, []string{"/b"}},
			{"PATCH 303 Location", http.MethodPatch, 303, "/b", []string{"/a", "/b"}, nil},
			{"unknown method", "PURGE", 200, "", []string{"/a"}, []string{"/b"}},
			{"POST 500", http.MethodPost, 500, "/b", nil, []string{"/a", "/b"}},
			{"POST 404", http.MethodPost, 404, "", nil, []string{"/a"}},
			{"other origin Location", http.MethodPost, 200, "http://other.example/b", []string{"/a"}, []string{"/b"}},
			{"OPTIONS is safe", http.MethodOptions, 200, "", nil, []string{"/a"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, nil)
				e.setHandler(func(w http.ResponseWriter, r *http.Request) {
					if r.Method != http.MethodGet {
						if tc.location != "" {
							w.Header().Set("Location", tc.location)
						}
						w.WriteHeader(tc.code)
						return
					}
					w.Header().Set("Cache-Control", "max-age=60")
					io.WriteString(w, r.URL.Path)
				})
				e.get("/a")
				e.get("/b")
				r := e.do(tc.method, "/a")
				expect(t, r, tc.code, "", "tiercache; fwd=method")
				for _, p := range tc.invalidated {
					expect(t, e.get(p), 200, p, "tiercache; fwd=uri-miss")
				}
				for _, p := range tc.kept {
					expect(t, e.get(p), 200, p, "tiercache; hit")
				}
			})
		}
	})
}

func TestInvalidationContentLocation(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		e := k.env(t, nil)
		e.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("Content-Location", e.srv.URL+"/b")
				return
			}
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, r.URL.Path)
		})
		e.get("/b")
		e.do(http.MethodPost, "/a")
		expect(t, e.get("/b"), 200, "/b", "tiercache; fwd=uri-miss")
	})
}
