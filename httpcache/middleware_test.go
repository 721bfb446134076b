package httpcache

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of what the Middleware adds to the engine: how the handler's
// response is captured. The RFC rules are tested for both in the
// rfc*_test.go files (both).

// mwEnv returns a Middleware env whose server logs nothing (handler panics
// are expected in some tests).
func mwEnv(t *testing.T, h http.HandlerFunc, opts ...Option) *env {
	t.Helper()
	e := kindMiddleware.env(t, h, opts...)
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return e
}

func TestMiddlewareFlushReachesClient(t *testing.T) {
	release := make(chan struct{})
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		<-release // the client has read "first " before the handler goes on
		io.WriteString(w, "second")
	})
	resp, err := e.roundTrip(mustRequest(t, e.srv.URL+"/f"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("first "))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first " {
		t.Fatalf("read %q %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(rest) != "second" || !strings.Contains(resp.Trailer.Get("Cache-Status"), "stored") {
		t.Fatalf("rest %q trailer %v", rest, resp.Trailer)
	}
	expect(t, e.get("/f"), 200, "first second", "tiercache; hit")
}

func TestMiddlewareResponseController(t *testing.T) {
	errs := make(chan error, 5)
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		errs <- rc.EnableFullDuplex()
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "x")
		errs <- rc.Flush()
		_, _, err := rc.Hijack()
		errs <- err
	})
	expect(t, e.get("/rc"), 200, "x", "tiercache; fwd=uri-miss")
	for i, want := range []error{nil, nil, nil, nil, errNoHijack} {
		if err := <-errs; !errors.Is(err, want) {
			t.Errorf("call %d: %v, want %v", i, err, want)
		}
	}
}

func TestMiddlewareTrailers(t *testing.T) {
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	})
	r := e.get("/t")
	if r.body != "body" || r.trailer.Get("X-Sum") != "42" || r.trailer.Get("X-Late") != "yes" ||
		r.trailer.Get("Cache-Status") != "tiercache; fwd=uri-miss; stored; ttl=60" {
		t.Fatalf("trailer %v header %v", r.trailer, r.header)
	}
	// Trailers are not stored (RFC 9111 §3.1 allows it).
	if r := e.get("/t"); r.body != "body" || r.trailer.Get("X-Sum") != "" || r.header.Get("Cache-Status") != "tiercache; hit; ttl=60" {
		t.Fatalf("hit: trailer %v header %v", r.trailer, r.header)
	}
}

// A panic in the handler reaches net/http (it aborts the response as
// without the cache) and nothing is stored, whether it happens before or
// after the header.
func TestMiddlewarePanicStoresNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write bool
	}{{"before the header", false}, {"mid-body", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var raised []any
			e := mwEnv(t, nil)
			inner := e.srv.Config.Handler
			e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() {
					v := recover()
					mu.Lock()
					raised = append(raised, v)
					mu.Unlock()
					if v != nil {
						panic(http.ErrAbortHandler)
					}
				}()
				inner.ServeHTTP(w, r)
			})
			e.setHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if e.hits.Load() == 1 {
					if tc.write {
						io.WriteString(w, strings.Repeat("x", 100))
						w.(http.Flusher).Flush()
					}
					panic("handler bug")
				}
				io.WriteString(w, "ok")
			})
			if resp, err := e.roundTrip(mustRequest(t, e.srv.URL+"/p")); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			expect(t, e.get("/p"), 200, "ok", "tiercache; fwd=uri-miss")
			mu.Lock()
			defer mu.Unlock()
			if len(raised) != 2 || raised[0] != "handler bug" || raised[1] != nil {
				t.Fatalf("panics seen by the outer handler: %v", raised)
			}
		})
	}
}

// A response over WithMaxBodySize streams to the client untouched and is
// not stored.
func TestMiddlewareTooLargeStreamsThrough(t *testing.T) {
	chunk := strings.Repeat("0123456789abcdef", 1024) // 16 KiB
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		for range 8 {
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
		}
	}, WithMaxBodySize(32<<10))
	for range 2 {
		r := e.get("/big")
		if r.body != strings.Repeat(chunk, 8) {
			t.Fatalf("body of %d bytes altered", len(r.body))
		}
	}
	e.expectHits(2)
	if s := e.mw.Stats(); s.Refusals.TooLarge != 2 || s.Stores != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Requests the cache does not serve reach the handler with the client's
// ResponseWriter (wrapped only to label, count and invalidate) and the
// server request itself; a protocol upgrade gets the ResponseWriter as is.
func TestMiddlewareStraightThrough(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		kind := "captured"
		switch w.(type) {
		case *straightWriter:
			kind = "straight"
		case http.Hijacker:
			if _, ok := w.(*handlerWriter); !ok {
				kind = "connection"
			}
		}
		mu.Lock()
		seen[r.Method+" "+r.Header.Get("Upgrade")] = kind + " " + r.RequestURI
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, r.Method)
	})
	e.get("/s")
	expect(t, e.get("/s"), 200, "GET", "tiercache; hit")
	expect(t, e.do(http.MethodPost, "/s"), 200, "POST", "tiercache; fwd=method")
	expect(t, e.get("/s"), 200, "GET", "tiercache; fwd=uri-miss") // the POST invalidated it
	e.do(http.MethodGet, "/u", "Upgrade: websocket", "Connection: Upgrade")
	want := map[string]string{"GET ": "captured /s", "POST ": "straight /s", "GET websocket": "connection /u"}
	mu.Lock()
	defer mu.Unlock()
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("%s: %q, want %q", k, seen[k], v)
		}
	}
}

// A client that goes away mid-body makes the handler's writes fail, and
// nothing is stored.
func TestMiddlewareClientGone(t *testing.T) {
	writeErr := make(chan error, 1)
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 1024 { // 64 MiB: more than the sockets buffer
			if _, err := w.Write(chunk); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}, WithMaxBodySize(128<<20))
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := <-writeErr; err == nil {
		t.Fatal("the handler wrote 64 MiB to a client that was gone")
	}
	if e.m.len() != 0 {
		t.Fatal("a response the client did not take was stored")
	}
}

// A stale-while-revalidate hit runs the handler once in the background, with
// no client (Flush and Unwrap are harmless), and stores its response.
func TestMiddlewareBackgroundRevalidation(t *testing.T) {
	unwrapped := make(chan http.ResponseWriter, 2)
	e := mwEnv(t, nil)
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		io.WriteString(w, "v"+itoa(e.hits.Load()))
		w.(http.Flusher).Flush()
		unwrapped <- w.(interface{ Unwrap() http.ResponseWriter }).Unwrap()
	})
	e.get("/b")
	<-unwrapped
	e.clk.Advance(20 * time.Second)
	expect(t, e.get("/b"), 200, "v1", "tiercache; hit; ttl=-10; detail=stale-while-revalidate")
	if w := <-unwrapped; w != nil {
		t.Fatalf("a background run reached a client: %T", w)
	}
	e.tr.bg.wg.Wait()
	expect(t, e.get("/b"), 200, "v2", "tiercache; hit")
}

// A panic in a background run is recovered and reported.
func TestMiddlewareBackgroundPanicReported(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	e := mwEnv(t, nil, WithErrorHook(func(_ *http.Request, err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if e.hits.Load() == 2 {
			panic("background bug")
		}
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		io.WriteString(w, "v")
	})
	e.get("/b")
	e.clk.Advance(20 * time.Second)
	expect(t, e.get("/b"), 200, "v", "tiercache; hit")
	e.tr.bg.wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "background bug") || e.mw.Stats().Panics != 1 {
		t.Fatalf("reported %v", reported)
	}
}

// A rate limiter refusal with nothing stored to stand in gets 503.
func TestMiddlewareRateLimited(t *testing.T) {
	e := mwEnv(t, nil, WithRateLimiter(RateLimiterFunc(func(ctx context.Context, req *http.Request) error {
		return errors.New("over the limit")
	})))
	e.setHandler(e.counter("Cache-Control: max-age=60"))
	expect(t, e.get("/r"), 503, "httpcache: origin unavailable\n", "tiercache; detail=origin-unavailable")
	expect(t, e.do(http.MethodPost, "/r"), 503, "httpcache: origin unavailable\n", "tiercache; detail=origin-unavailable")
	e.expectHits(0)
}

// The handler sees the request it was sent: relative URL, its RequestURI,
// its own context.
func TestMiddlewareHandlerSeesServerRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	e := mwEnv(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r
		io.WriteString(w, "x")
	})
	e.get("/a/b?c=d")
	r := <-got
	if r.URL.IsAbs() || r.RequestURI != "/a/b?c=d" || r.URL.Path != "/a/b" {
		t.Fatalf("handler saw %v %q", r.URL, r.RequestURI)
	}
}

func TestMiddlewareWrapsRecorder(t *testing.T) {
	mw := NewMiddleware(newMemManager(time.Now))
	defer mw.Close()
	h := mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "<html>hi</html>")
	}))
	for i, want := range []string{"tiercache; fwd=uri-miss; stored; ttl=", "tiercache; hit; ttl="} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://example.com/", nil))
		cs := rec.Result().Trailer.Get("Cache-Status")
		if cs == "" {
			cs = rec.Header().Get("Cache-Status")
		}
		if rec.Body.String() != "<html>hi</html>" || !strings.HasPrefix(cs, want) || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("request %d: %q %q %v", i, rec.Body, cs, rec.Header())
		}
	}
}
