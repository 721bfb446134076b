package lru

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
)

// A trace in the ARC paper's .lis format (Megiddo and Modha, "ARC: A
// Self-Tuning, Low Overhead Replacement Cache", USENIX FAST '03): each line
// `start count _ _` stands for count page requests start, start+1, ...

// pageTrace is a trace as indexes into its distinct keys.
type pageTrace struct {
	keys []string // keys[i] is the key of page index i
	reqs []int32  // the requests, in order
}

// readLIS reads a .lis trace, zstd-compressed or plain, from r.
func readLIS(r io.Reader) (*pageTrace, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(4); bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		d, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		br = bufio.NewReader(d)
	}
	t := &pageTrace{}
	index := make(map[uint64]int32)
	sc := bufio.NewScanner(br)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want `start count ...`, got %q", line, sc.Text())
		}
		start, err1 := strconv.ParseUint(f[0], 10, 64)
		count, err2 := strconv.ParseUint(f[1], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d: %q: not two integers", line, sc.Text())
		}
		for p := start; p < start+count; p++ {
			i, ok := index[p]
			if !ok {
				i = int32(len(t.keys))
				index[p] = i
				t.keys = append(t.keys, strconv.FormatUint(p, 10))
			}
			t.reqs = append(t.reqs, i)
		}
	}
	return t, sc.Err()
}

func loadLIS(t testing.TB, path string) *pageTrace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := readLIS(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tr
}

// replayHitRatio replays tr read-through (a miss is followed by a Put) on a
// one-shard Manager of ev bounded by entries only, and returns the hit
// ratio in percent.
func replayHitRatio(t testing.TB, tr *pageTrace, ev Eviction, entries int) float64 {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := New(Config{MaxEntries: entries, MaxBytes: 1 << 50, Shards: 1, Eviction: ev, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	resp := &tiercache.Response{Status: 200}
	pol := tiercache.NewTTLPolicy(time.Hour, tiercache.WithNow(now))
	hits := 0
	for _, i := range tr.reqs {
		k := tr.keys[i]
		if got, _, _ := m.Get(ctx, k); got != nil {
			hits++
			continue
		}
		if _, err := m.Put(ctx, k, resp, pol); err != nil {
			t.Fatal(err)
		}
	}
	return 100 * float64(hits) / float64(len(tr.reqs))
}

// TestTraceHitRatios prints the hit ratios of every eviction on the full
// ARC traces in $TIERCACHE_TRACES (OLTP.lis.zst, P3.lis.zst), the offline
// harness of adaptive_notes.md. It is skipped without the variable.
func TestTraceHitRatios(t *testing.T) {
	dir := os.Getenv("TIERCACHE_TRACES")
	if dir == "" {
		t.Skip("set TIERCACHE_TRACES to the directory of OLTP.lis.zst and P3.lis.zst")
	}
	evs := []Eviction{LRU, ARC, Adaptive}
	if s := os.Getenv("TIERCACHE_EVICTIONS"); s != "" {
		evs = nil
		for _, name := range strings.Split(s, ",") {
			ev, err := ParseEviction(name)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
	}
	type job struct {
		trace string
		size  int
	}
	jobs := []job{{"OLTP", 1000}, {"OLTP", 2000}, {"OLTP", 5000}, {"OLTP", 10000}, {"OLTP", 15000},
		{"P3", 32768}, {"P3", 131072}}
	traces := map[string]*pageTrace{}
	for _, name := range []string{"OLTP", "P3"} {
		traces[name] = loadLIS(t, filepath.Join(dir, name+".lis.zst"))
	}
	res := make([][]float64, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, j := range jobs {
		res[i] = make([]float64, len(evs))
		for k, ev := range evs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				res[i][k] = replayHitRatio(t, traces[j.trace], ev, j.size)
			})
		}
	}
	wg.Wait()
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %7s", "trace", "size")
	for _, ev := range evs {
		fmt.Fprintf(&b, " %9s", ev)
	}
	b.WriteString("\n")
	for i, j := range jobs {
		fmt.Fprintf(&b, "%-5s %7d", j.trace, j.size)
		for k := range evs {
			fmt.Fprintf(&b, " %9.2f", res[i][k])
		}
		b.WriteString("\n")
	}
	t.Log("\n" + b.String())
}
