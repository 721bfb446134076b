package memcached

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/memcachedtest"
)

// pauseProxy forwards memcached's text protocol to a server and holds the
// first command line that contains match until release is closed, after
// telling paused. It forwards data blocks of storage commands unparsed.
type pauseProxy struct {
	addr    string
	match   string
	paused  chan struct{}
	release chan struct{}
	once    sync.Once
}

func startPauseProxy(t *testing.T, server, match string) *pauseProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pauseProxy{addr: l.Addr().String(), match: match, paused: make(chan struct{}), release: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		p.once.Do(func() {}) // no pause after the test
		select {
		case <-p.release:
		default:
			close(p.release)
		}
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", server)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() { _, _ = io.Copy(c, s); c.Close() })
			wg.Go(func() { p.forward(c, s); s.Close() })
		}
	})
	return p
}

// forward copies client commands to the server, pausing on a match.
func (p *pauseProxy) forward(c, s net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		if bytes.Contains(line, []byte(p.match)) {
			p.once.Do(func() {
				close(p.paused)
				<-p.release
			})
		}
		if _, err := s.Write(line); err != nil {
			return
		}
		f := strings.Fields(string(line))
		if len(f) >= 5 && strings.Contains(" set add replace append prepend cas ", " "+f[0]+" ") {
			n, _ := strconv.Atoi(f[4])
			if _, err := io.CopyN(s, r, int64(n)+2); err != nil {
				return
			}
		}
	}
}

// TestDiscardKeepsNewerValue reads a chunked value whose chunk was evicted
// while another client overwrites the key between the read of the manifest
// and the read of the chunks: cleaning up the incomplete entry must not
// delete the newer value.
func TestDiscardKeepsNewerValue(t *testing.T) {
	srv := memcachedtest.Start(t)
	proxy := startPauseProxy(t, srv.Addr, chunkTag)
	newStore := func(addr string) *Store {
		s, err := NewStore(Config{Servers: []string{addr}, Timeout: testTimeout, MaxItemSize: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	direct, reader := newStore(srv.Addr), newStore(proxy.addr)

	old := bytes.Repeat([]byte("old value "), 1500) // 15 KB: 5 chunks
	mustDo(t, direct.Set(bg, "k", old, time.Hour))
	c := raw(srv.Addr)
	it, err := c.Get(direct.ItemKey("k"))
	mustDo(t, err)
	man, err := parseManifest(it.Value, DefaultMaxValueSize)
	mustDo(t, err)
	mustDo(t, c.Delete(direct.chunkKeys(man, 0, man.count())[2])) // evicted

	type result struct {
		v   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := reader.Get(bg, "k")
		got <- result{v, err}
	}()
	<-proxy.paused // the reader holds the old manifest
	newer := []byte("newer value")
	mustDo(t, direct.Set(bg, "k", newer, time.Hour))
	close(proxy.release)
	if r := <-got; r.err != nil || r.v != nil {
		t.Fatalf("Get of the incomplete entry = %q, %v; want a miss", r.v, r.err)
	}
	v, err := direct.Get(bg, "k")
	if err != nil || !bytes.Equal(v, newer) {
		t.Fatalf("after the racing read, Get = %q, %v; want %q (the newer value was deleted)", v, err, newer)
	}
}
