package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenIgnoresOddNames opens a Dir holding names that are not fan-out
// subdirectories although they are hex (longer than two digits): the open
// must leave them alone and keep the entries, never panic.
func TestOpenIgnoresOddNames(t *testing.T) {
	tests := []struct {
		name string
		dir  bool
	}{
		{"abcd", false},
		{"abc", false},
		{"0123456789", true},
		{"AB", true},
		{"a", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, Config{Dir: dir})
			mustSet(t, s, "k", []byte("kept"), time.Hour)
			s.Close()
			p := filepath.Join(dir, tc.name)
			var err error
			if tc.dir {
				err = os.Mkdir(p, 0o755)
			} else {
				err = os.WriteFile(p, []byte("not ours"), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			s = openStore(t, Config{Dir: dir})
			if got, ok := getString(t, s, "k"); !ok || got != "kept" {
				t.Fatalf("Get(k) after open = %q, %v", got, ok)
			}
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("open removed %s: %v", tc.name, err)
			}
		})
	}
}

// TestSyncDirFailureAccounting makes the directory fsync fail after the
// rename: the entry is in place and indexed, so its bytes must stay counted
// (the reservation is not returned a second time).
func TestSyncDirFailureAccounting(t *testing.T) {
	s := openStore(t, Config{Sync: SyncDir})
	mustSet(t, s, "a", []byte("value a"), time.Hour)
	mustSet(t, s, "b", []byte("old b"), time.Hour) // its subdirectory exists
	errSync := errors.New("injected fsync failure")
	s.fsyncDir = func(string) error { return errSync }
	if err := s.Set(ctx, "b", []byte("value b"), time.Hour); !errors.Is(err, errSync) {
		t.Fatalf("Set with a failing directory fsync: %v, want the fsync error", err)
	}
	s.fsyncDir = syncDir
	checkConsistent(t, s)
	if got, _ := getString(t, s, "b"); got != "value b" {
		t.Fatalf("Get(b) = %q; the rename happened, want the new value", got)
	}
	for _, k := range []string{"a", "b"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Entries != 0 || st.Bytes != 0 {
		t.Fatalf("after deleting everything: %d entries, %d bytes; want 0, 0", st.Entries, st.Bytes)
	}
}
