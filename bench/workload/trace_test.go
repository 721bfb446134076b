package workload

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tiercache/tiercache"
)

func zstdBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func TestReadTrace(t *testing.T) {
	lis := "10 3 0 0\n\n12 2 0 1\n7 1 0 2\n"
	keys := "GET /a\nGET /b\n\nGET /a\n"
	for _, tc := range []struct {
		name, format, in string
		zstd             bool
		want             []string // the key of each request
		wantFormat       string
	}{
		{"LIS", FormatLIS, lis, false, []string{"10", "11", "12", "12", "13", "7"}, FormatLIS},
		{"LISSniffed", FormatAuto, lis, false, []string{"10", "11", "12", "12", "13", "7"}, FormatLIS},
		{"LISZstd", FormatAuto, lis, true, []string{"10", "11", "12", "12", "13", "7"}, FormatLIS},
		{"Keys", FormatAuto, keys, false, []string{"GET /a", "GET /b", "GET /a"}, FormatKeys},
		{"KeysZstd", FormatKeys, keys, true, []string{"GET /a", "GET /b", "GET /a"}, FormatKeys},
		{"NumericKeys", FormatAuto, "5\n6\n5\n", false, []string{"5", "6", "5"}, FormatKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			if tc.zstd {
				in = zstdBytes(t, in)
			}
			tr, err := ReadTrace(bytes.NewReader(in), tc.format)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range tr.Requests {
				got = append(got, tr.Keys[r])
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || tr.Format != tc.wantFormat {
				t.Fatalf("requests %q (%s), want %q (%s)", got, tr.Format, tc.want, tc.wantFormat)
			}
		})
	}
}

func TestReadTraceErrors(t *testing.T) {
	for _, tc := range []struct{ name, format, in, want string }{
		{"Empty", FormatAuto, "\n\n", "no requests"},
		{"OneField", FormatLIS, "10 1 0 0\n12\n", "line 2"},
		{"NotANumber", FormatLIS, "10 x 0 0\n", "line 1"},
		{"Negative", FormatLIS, "10 -1 0 0\n", "line 1"},
		{"HugeCount", FormatLIS, "10 99999999999 0 0\n", "line 1"},
		{"Overflow", FormatLIS, "18446744073709551615 2 0 0\n", "line 1"},
		{"Format", "csv", "a\n", "unknown trace format"},
		{"CorruptZstd", FormatAuto, "\x28\xb5\x2f\xfdgarbage", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tc.in), tc.format)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadTraceFileName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lis.zst")
	// A .lis name decides the format even when the first line would not.
	if err := os.WriteFile(path, zstdBytes(t, []byte("1 2 0 0\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadTraceFile(path, FormatAuto)
	if err != nil || tr.Name != "x.lis.zst" || tr.Format != FormatLIS || len(tr.Requests) != 2 {
		t.Fatalf("ReadTraceFile = %+v, %v", tr, err)
	}
	if _, err := ReadTraceFile(filepath.Join(dir, "missing"), FormatAuto); err == nil {
		t.Fatal("no error for a missing file")
	}
}

// mapManager is a minimal unbounded Manager for replay tests.
type mapManager map[string]*tiercache.Response

func (m mapManager) Get(_ context.Context, k string) (*tiercache.Response, *tiercache.Policy, error) {
	if r, ok := m[k]; ok {
		return r, tiercache.NewTTLPolicy(time.Hour), nil
	}
	return nil, nil, nil
}

func (m mapManager) Put(_ context.Context, k string, r *tiercache.Response, _ *tiercache.Policy) (*tiercache.Response, error) {
	m[k] = r
	return r, nil
}

func (m mapManager) Delete(_ context.Context, k string) error { delete(m, k); return nil }

func TestReplayTrace(t *testing.T) {
	tr, err := ReadTrace(strings.NewReader("1 3 0 0\n1 3 0 0\n2 1 0 0\n"), FormatLIS)
	if err != nil {
		t.Fatal(err)
	}
	m := mapManager{}
	hits, err := ReplayTrace(context.Background(), m, tr, &tiercache.Response{Status: 200}, tiercache.NewTTLPolicy(time.Hour), nil)
	if err != nil || hits != 4 || len(m) != 3 {
		t.Fatalf("hits %d, %v, %d keys; want 4 hits (second pass and page 2), 3 keys", hits, err, len(m))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReplayTrace(ctx, m, tr, &tiercache.Response{}, tiercache.NewTTLPolicy(time.Hour), nil); err == nil {
		t.Fatal("a cancelled context did not stop the replay")
	}
}
