package httpcache

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestBodyStoredOnlyWhenComplete(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		big := strings.Repeat("x", 64<<10)
		tests := []struct {
			name    string
			handler func(w http.ResponseWriter, r *http.Request)
			read    func(t *testing.T, body io.ReadCloser)
			opts    []Option
			stored  bool
		}{
			{"read completely", sized(big), readAll, nil, true},
			{"read without EOF then closed", sized(big), func(t *testing.T, b io.ReadCloser) {
				buf := make([]byte, len(big))
				if _, err := io.ReadFull(b, buf); err != nil {
					t.Fatal(err)
				}
				b.Close()
			}, nil, true},
			{"chunked read completely", chunked(big), readAll, nil, true},
			{"abandoned", sized(big), func(t *testing.T, b io.ReadCloser) {
				io.ReadFull(b, make([]byte, 10))
				b.Close()
			}, nil, false},
			{"abandoned chunked", chunked(big), func(t *testing.T, b io.ReadCloser) {
				io.ReadFull(b, make([]byte, 10))
				b.Close()
			}, nil, false},
			{"closed unread", sized(big), func(t *testing.T, b io.ReadCloser) { b.Close() }, nil, false},
			{"fails midway", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Content-Length", "100000")
				io.WriteString(w, big[:1000])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // the connection breaks
			}, func(t *testing.T, b io.ReadCloser) {
				if _, err := io.ReadAll(b); err == nil {
					t.Fatal("truncated body read without error")
				}
				b.Close()
			}, nil, false},
			{"over the limit, length known", sized(big), readAll, []Option{WithMaxBodySize(1000)}, false},
			{"over the limit, chunked", chunked(big), readAll, []Option{WithMaxBodySize(1000)}, false},
		}
		for _, tc := range tests {
			if k == kindMiddleware && (strings.HasPrefix(tc.name, "abandoned") || tc.name == "closed unread") {
				continue // the server wrote it all: see TestMiddlewareClientGone
			}
			t.Run(tc.name, func(t *testing.T) {
				e := k.env(t, tc.handler, tc.opts...)
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/b", nil)
				resp, err := e.roundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				tc.read(t, resp.Body)
				e.settle()
				if stored := e.m.len() == 1; stored != tc.stored {
					t.Fatalf("stored = %v, want %v", stored, tc.stored)
				}
				if tc.stored {
					expect(t, e.get("/b"), 200, big, "tiercache; hit")
				}
			})
		}
	})
}

func sized(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, body)
	}
}

func chunked(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		for i := 0; i < len(body); i += 4096 {
			io.WriteString(w, body[i:i+4096])
			w.(http.Flusher).Flush()
		}
	}
}

func readAll(t *testing.T, b io.ReadCloser) {
	t.Helper()
	if _, err := io.ReadAll(b); err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestCachedBodyNotCopied(t *testing.T) {
	both(t, func(t *testing.T, k cacheKind) {
		big := strings.Repeat("y", 1<<20)
		e := k.env(t, sized(big))
		e.get("/c")
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/c", nil)
		resp, _ := e.roundTrip(req)
		if resp.ContentLength != int64(len(big)) || resp.Request != req {
			t.Fatalf("ContentLength %d Request %p", resp.ContentLength, resp.Request)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 50 {
			r, _ := e.roundTrip(req)
			io.Copy(io.Discard, r.Body)
		}
		runtime.ReadMemStats(&after)
		if perHit := (after.TotalAlloc - before.TotalAlloc) / 50; perHit > 64<<10 {
			t.Fatalf("a hit of a 1 MiB body allocates %d bytes: the body is copied", perHit)
		}
	})
}
