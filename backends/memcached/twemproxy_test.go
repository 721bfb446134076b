package memcached

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/tiercache/tiercache/internal/memcachedtest"
)

// TestKetamaMatchesTwemproxy is a second, live reference for the placement:
// twemproxy (nutcracker, distribution ketama, hash md5) in front of three
// real servers of weights 1, 1 and 2 stores 500 keys, and each key must be
// on the server this package picks for it. It needs the nutcracker binary
// (Debian: apt-get install nutcracker, which .ci/run installs) and skips
// without it, except under CI=true, where it fails. The pinned reference is
// libmemcached (TestKetamaMatchesLibmemcached).
func TestKetamaMatchesTwemproxy(t *testing.T) {
	bin, err := exec.LookPath("nutcracker")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nutcracker (twemproxy) not on PATH under CI=true: .ci/run must install it")
		}
		t.Skip("nutcracker (twemproxy) not on PATH: apt-get install nutcracker to run this cross-check")
	}
	servers := memcachedtest.StartN(t, 3, memcachedtest.Options{})
	entries := []string{servers[0].Addr, servers[1].Addr, servers[2].Addr + " 2"}
	proxy := startTwemproxy(t, bin, entries)

	s, err := NewStore(Config{Servers: entries, Timeout: testTimeout})
	mustDo(t, err)
	defer s.Close()
	via := raw(proxy)
	for i := range 500 {
		key := fmt.Sprintf("GET:https://example.com/tw/%d", i)
		mustDo(t, via.Set(&memcache.Item{Key: key, Value: []byte("v")}))
		var r replicas
		mustDo(t, s.c.pick(key, 1, &r))
		want := r.list[0].spec.name
		for _, srv := range servers {
			_, err := raw(srv.Addr).Get(key)
			if on := err == nil; on != (srv.Addr == want) {
				t.Fatalf("key %q: on %s = %v (err %v); this package places it on %s", key, srv.Addr, on, err, want)
			}
		}
	}
}

// startTwemproxy runs nutcracker over entries ("host:port weight") and
// returns its address.
func startTwemproxy(t *testing.T, bin string, entries []string) string {
	t.Helper()
	listen, stats := freeAddr(t), freeAddr(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "pool:\n  listen: %s\n  hash: md5\n  distribution: ketama\n  auto_eject_hosts: false\n  servers:\n", listen)
	for _, e := range entries {
		f := strings.Fields(e)
		w := "1"
		if len(f) == 2 {
			w = f[1]
		}
		fmt.Fprintf(&conf, "   - %s:%s\n", f[0], w)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "nutcracker.yml")
	mustDo(t, os.WriteFile(path, []byte(conf.String()), 0o600))
	_, statsPort, _ := net.SplitHostPort(stats)
	cmd := exec.Command(bin, "-c", path, "-s", statsPort, "-a", "127.0.0.1",
		"-o", filepath.Join(dir, "nutcracker.log"), "-p", filepath.Join(dir, "nutcracker.pid"))
	mustDo(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, "nutcracker to listen on "+listen, func() bool {
		c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return listen
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	mustDo(t, err)
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
