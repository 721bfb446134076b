package memcached

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// golden is a placement computed by libmemcached (testdata/ketama/gen.sh).
type golden struct {
	servers []string
	keys    []string
	index   []int // server index per key
}

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g golden
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if f[0] == "servers" {
			g.servers = f[1:]
			continue
		}
		if len(f) != 3 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		i, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("%s: bad index in %q", path, line)
		}
		g.keys, g.index = append(g.keys, f[0]), append(g.index, i)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(g.servers) == 0 || len(g.keys) == 0 {
		t.Fatalf("%s: no servers or no keys", path)
	}
	return g
}

// ringFor builds the ring of Config.Servers entries without resolving host
// names (the golden files use names that do not resolve).
func ringFor(t testing.TB, entries []string) *ring {
	t.Helper()
	names, weights := make([]string, len(entries)), make([]int, len(entries))
	for i, e := range entries {
		f := strings.Fields(e)
		weights[i] = 1
		if len(f) == 2 {
			weights[i], _ = strconv.Atoi(f[1])
		}
		if strings.Contains(f[0], "/") {
			names[i] = pointName(f[0], "")
			continue
		}
		host, port, err := splitHostPort(f[0])
		if err != nil {
			t.Fatal(err)
		}
		names[i] = pointName(host, port)
	}
	return newRing(names, weights)
}

func splitHostPort(s string) (string, string, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("%q: no port", s)
	}
	return strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]"), s[i+1:], nil
}

// owner returns the index of the server key maps to.
func (r *ring) owner(key string) int {
	var buf [1]int
	return r.pick(key, 1, anyServer, buf[:0])[0]
}

// TestKetamaMatchesLibmemcached pins the placement of 1,000 keys on five
// server lists (equal and uneven weights, port 11211 and others, host
// names, IPv6, a unix socket, 25 servers whose float32 share rounds down to
// 156 points) to what libmemcached 1.1.4 computes (testdata/ketama: a C
// program linked with libmemcached and its output; gen.sh regenerates it).
func TestKetamaMatchesLibmemcached(t *testing.T) {
	files, err := filepath.Glob("testdata/ketama/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g := readGolden(t, path)
			r := ringFor(t, g.servers)
			wrong := 0
			for i, key := range g.keys {
				if got := r.owner(key); got != g.index[i] {
					if wrong++; wrong <= 5 {
						t.Errorf("key %q: server %d (%s), libmemcached picks %d (%s)", key, got, g.servers[got], g.index[i], g.servers[g.index[i]])
					}
				}
			}
			if wrong > 0 {
				t.Fatalf("%d of %d keys placed differently from libmemcached", wrong, len(g.keys))
			}
		})
	}
}

func TestPointCount(t *testing.T) {
	tests := []struct {
		w, total, n, want int
	}{
		{1, 1, 1, 160},
		{1, 3, 3, 160},
		{1, 25, 25, 156}, // float32 rounding, as in libmemcached and twemproxy
		{1, 6, 3, 80},    // weights 1, 2, 3
		{2, 6, 3, 160},
		{3, 6, 3, 240},
		{1, 1001, 2, 0}, // too small a share for one digest
	}
	for _, tc := range tests {
		if got := pointCount(tc.w, tc.total, tc.n); got != tc.want {
			t.Errorf("pointCount(%d, %d, %d) = %d, want %d", tc.w, tc.total, tc.n, got, tc.want)
		}
	}
}

func TestPointName(t *testing.T) {
	tests := []struct{ host, port, want string }{
		{"10.0.0.1", "11211", "10.0.0.1"},
		{"10.0.0.1", "11212", "10.0.0.1:11212"},
		{"::1", "11214", "::1:11214"},
		{"/var/run/memcached.sock", "", "/var/run/memcached.sock:0"},
	}
	for _, tc := range tests {
		if got := pointName(tc.host, tc.port); got != tc.want {
			t.Errorf("pointName(%q, %q) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

// testKeys returns n keys shaped like cache keys.
func testKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET:https://example.com/item/%d?v=%d", i, i%13)
	}
	return keys
}

// TestRingMovedKeys measures the keys that change servers when the list
// changes: 3 -> 4 servers moves about a quarter (at most 30%), and every
// moved key goes to the new server; removing one of 4 moves exactly that
// server's keys.
func TestRingMovedKeys(t *testing.T) {
	three := []string{"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"}
	four := append(append([]string(nil), three...), "10.0.0.4:11211")
	r3, r4 := ringFor(t, three), ringFor(t, four)
	keys := testKeys(100_000)

	moved := 0
	for _, k := range keys {
		a, b := r3.owner(k), r4.owner(k)
		if a != b {
			moved++
			if b != 3 {
				t.Fatalf("key %q moved from server %d to %d, not to the new server", k, a, b)
			}
		}
	}
	frac := float64(moved) / float64(len(keys))
	t.Logf("3 -> 4 servers: %.1f%% of %d keys moved (ideal 25%%)", 100*frac, len(keys))
	if frac > 0.30 || frac < 0.20 {
		t.Errorf("3 -> 4 servers moved %.1f%% of keys, want 20-30%%", 100*frac)
	}

	for removed := range four {
		var rest []string
		for i, s := range four {
			if i != removed {
				rest = append(rest, s)
			}
		}
		rr := ringFor(t, rest)
		movedOthers, owned := 0, 0
		for _, k := range keys {
			before := r4.owner(k)
			after := rr.owner(k)
			if after >= removed {
				after++ // index in four
			}
			if before == removed {
				owned++
			} else if after != before {
				movedOthers++
			}
		}
		t.Logf("removing server %d of 4: its %.1f%% of keys moved, %d others", removed, 100*float64(owned)/float64(len(keys)), movedOthers)
		if movedOthers != 0 {
			t.Errorf("removing server %d moved %d keys of other servers", removed, movedOthers)
		}
	}
}

// TestRingSkipsEjected checks that skipping a server on the ring moves
// only its keys, to the server a ring without it would pick (equal
// weights), and that replicas are distinct servers in ring order.
func TestRingSkipsEjected(t *testing.T) {
	four := []string{"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"}
	r4 := ringFor(t, four)
	r3 := ringFor(t, four[:3])
	notFour := func(i int) bool { return i != 3 }
	var buf [4]int
	for _, k := range testKeys(20_000) {
		got := r4.pick(k, 1, notFour, buf[:0])[0]
		if want := r3.owner(k); got != want {
			t.Fatalf("key %q with server 3 ejected: %d, a ring without it: %d", k, got, want)
		}
		reps := r4.pick(k, 4, anyServer, buf[:0])
		if len(reps) != 4 || reps[0] != r4.owner(k) {
			t.Fatalf("key %q: replicas %v, owner %d", k, reps, r4.owner(k))
		}
		seen := map[int]bool{}
		for _, s := range reps {
			if seen[s] {
				t.Fatalf("key %q: replica list %v repeats a server", k, reps)
			}
			seen[s] = true
		}
		// The second replica is where the key goes when the first is out.
		if got := r4.pick(k, 1, func(i int) bool { return i != reps[0] }, buf[:0])[0]; got != reps[1] {
			t.Fatalf("key %q: owner out -> %d, second replica %d", k, got, reps[1])
		}
	}
	if got := r4.pick("k", 2, func(int) bool { return false }, buf[:0]); len(got) != 0 {
		t.Fatalf("no usable server: picked %v", got)
	}
}

// TestRingWeights checks that each server's share of keys follows its
// weight.
func TestRingWeights(t *testing.T) {
	r := ringFor(t, []string{"10.0.0.1:11211 1", "10.0.0.2:11211 2", "10.0.0.3:11211 3"})
	counts := make([]int, 3)
	keys := testKeys(60_000)
	for _, k := range keys {
		counts[r.owner(k)]++
	}
	for i, c := range counts {
		share, want := float64(c)/float64(len(keys)), float64(i+1)/6
		t.Logf("weight %d: %.1f%% of keys (ideal %.1f%%)", i+1, 100*share, 100*want)
		if share < want*0.8 || share > want*1.2 {
			t.Errorf("server of weight %d got %.1f%% of keys, want about %.1f%%", i+1, 100*share, 100*want)
		}
	}
}

func TestParseServers(t *testing.T) {
	good := []struct {
		entry  string
		name   string
		point  string
		weight int
	}{
		{"127.0.0.1:11211", "127.0.0.1:11211", "127.0.0.1", 1},
		{"127.0.0.1:11212 3", "127.0.0.1:11212", "127.0.0.1:11212", 3},
		{"  [::1]:11211\t2 ", "[::1]:11211", "::1", 2},
		{"/tmp/mc.sock", "/tmp/mc.sock", "/tmp/mc.sock:0", 1},
	}
	for _, tc := range good {
		s, err := parseServer(tc.entry)
		if err != nil || s.name != tc.name || s.point != tc.point || s.weight != tc.weight {
			t.Errorf("parseServer(%q) = %+v, %v; want name %q point %q weight %d", tc.entry, s, err, tc.name, tc.point, tc.weight)
		}
	}
	bad := [][]string{
		{""},
		{"no-port"},
		{"127.0.0.1:0"},
		{"127.0.0.1:x"},
		{"127.0.0.1:11211 0"},
		{"127.0.0.1:11211 -1"},
		{"127.0.0.1:11211 two"},
		{"127.0.0.1:11211 1 extra"},
		{"127.0.0.1:11211", "127.0.0.1:11211 2"}, // listed twice
	}
	for _, entries := range bad {
		if _, err := parseServers(entries); err == nil {
			t.Errorf("parseServers(%q): no error", entries)
		}
	}
}

func BenchmarkRingPick(b *testing.B) {
	r := ringFor(b, []string{"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"})
	key := "GET:https://example.com/some/path?query=1"
	var buf [1]int
	b.ReportAllocs()
	for b.Loop() {
		_ = r.pick(key, 1, anyServer, buf[:0])
	}
}
