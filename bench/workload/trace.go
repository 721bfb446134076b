package workload

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
)

// Trace formats accepted by ReadTrace.
const (
	// FormatLIS is the block-trace format of the ARC paper (Megiddo and
	// Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX
	// FAST '03): each line `start count ignored ignored` stands for count
	// requests of the pages start, start+1, ..., start+count-1.
	FormatLIS = "lis"
	// FormatKeys is one key per line; empty lines are skipped.
	FormatKeys = "keys"
	// FormatAuto picks FormatLIS for a name ending in .lis (before any
	// .zst) or a first line of two or more integers, else FormatKeys.
	FormatAuto = "auto"
)

// MaxTraceRequests bounds the requests a trace may expand to (a .lis line
// can stand for many), so that a corrupt count cannot exhaust memory.
const MaxTraceRequests = 1 << 28

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// KeyTrace is a recorded sequence of requests, each for one key, replayed
// read-through: a Get, and a Put when it misses.
type KeyTrace struct {
	Name     string   // the file's base name
	Format   string   // FormatLIS or FormatKeys
	Keys     []string // distinct keys, in order of first request
	Requests []uint32 // indexes into Keys, in request order
}

// ReadTraceFile reads a trace file, zstd-compressed or plain, in format
// (FormatLIS, FormatKeys or FormatAuto).
func ReadTraceFile(path, format string) (*KeyTrace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	if format == FormatAuto && strings.HasSuffix(strings.TrimSuffix(strings.TrimSuffix(name, ".zst"), ".zstd"), ".lis") {
		format = FormatLIS
	}
	tr, err := ReadTrace(f, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr.Name = name
	return tr, nil
}

// ReadTrace reads a trace, zstd-compressed or plain, in format.
func ReadTrace(r io.Reader, format string) (*KeyTrace, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(len(zstdMagic)); bytes.Equal(magic, zstdMagic) {
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		br = bufio.NewReaderSize(d, 1<<16)
	}
	if format == FormatAuto {
		format = sniff(br)
	}
	t := &traceBuilder{tr: &KeyTrace{Format: format}, index: map[string]uint32{}}
	var parse func(line string) error
	switch format {
	case FormatLIS:
		parse = t.lisLine
	case FormatKeys:
		parse = func(line string) error { return t.add(line) }
	default:
		return nil, fmt.Errorf("unknown trace format %q (want %s, %s or %s)", format, FormatLIS, FormatKeys, FormatAuto)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := parse(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.tr.Requests) == 0 {
		return nil, errors.New("no requests in the trace")
	}
	return t.tr, nil
}

// sniff returns FormatLIS when the first non-empty line holds two or more
// integers, else FormatKeys.
func sniff(br *bufio.Reader) string {
	head, _ := br.Peek(4096)
	for _, line := range strings.Split(string(head), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return FormatKeys
		}
		for _, x := range f[:2] {
			if _, err := strconv.ParseUint(x, 10, 64); err != nil {
				return FormatKeys
			}
		}
		return FormatLIS
	}
	return FormatKeys
}

type traceBuilder struct {
	tr    *KeyTrace
	index map[string]uint32
}

func (t *traceBuilder) add(key string) error {
	if len(t.tr.Requests) >= MaxTraceRequests {
		return fmt.Errorf("more than %d requests", MaxTraceRequests)
	}
	i, ok := t.index[key]
	if !ok {
		i = uint32(len(t.tr.Keys))
		t.index[key] = i
		t.tr.Keys = append(t.tr.Keys, key)
	}
	t.tr.Requests = append(t.tr.Requests, i)
	return nil
}

// lisLine expands `start count ...` into count page requests.
func (t *traceBuilder) lisLine(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("want `start count ...`, got %q", line)
	}
	start, err1 := strconv.ParseUint(f[0], 10, 64)
	count, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || count > MaxTraceRequests || start > start+count {
		return fmt.Errorf("want two unsigned integers `start count`, got %q", line)
	}
	for p := start; p < start+count; p++ {
		if err := t.add(strconv.FormatUint(p, 10)); err != nil {
			return err
		}
	}
	return nil
}

// ReplayTrace replays tr on m in order, from one goroutine: a Get per
// request and, when it misses, a Put of resp with pol under the key. It
// returns the hits; done, when non-nil, counts the requests replayed. It
// stops at the first error or when ctx is done.
func ReplayTrace(ctx context.Context, m tiercache.Manager, tr *KeyTrace, resp *tiercache.Response, pol *tiercache.Policy, done *atomic.Int64) (hits int64, err error) {
	for i, r := range tr.Requests {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return hits, err
			}
			if done != nil && i > 0 {
				done.Add(4096)
			}
		}
		key := tr.Keys[r]
		got, _, err := m.Get(ctx, key)
		if err != nil {
			return hits, err
		}
		if got != nil {
			hits++
			continue
		}
		if _, err := m.Put(ctx, key, resp, pol); err != nil {
			return hits, err
		}
	}
	return hits, nil
}
