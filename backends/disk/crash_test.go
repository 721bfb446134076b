package disk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	crashDirEnv  = "TIERCACHE_DISK_CRASH_DIR"
	crashSeedEnv = "TIERCACHE_DISK_CRASH_SEED"
	crashKeys    = 40
	crashMax     = 256 << 10
)

// crashValue is the only value ever stored for (key, n): a reader can tell
// from its prefix which write it claims to be and check every byte.
func crashValue(key string, n int) []byte {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", key, n)))
	prefix := fmt.Sprintf("%s|%d|", key, n)
	size := (n * 7919) % 24000
	return append([]byte(prefix), bytes.Repeat(sum[:], size/len(sum)+1)[:size]...)
}

// checkCrashValue reports whether v is exactly a value written for key.
func checkCrashValue(key string, v []byte) error {
	rest, ok := strings.CutPrefix(string(v), key+"|")
	num, _, ok2 := strings.Cut(rest, "|")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil {
		return fmt.Errorf("value for %s has a bad prefix %.40q", key, v)
	}
	if !bytes.Equal(v, crashValue(key, n)) {
		return fmt.Errorf("value for %s claims write %d but differs from it", key, n)
	}
	return nil
}

// TestCrashHelper is the writer the crash test runs in a child process and
// kills; it does nothing in a normal run.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrash")
	}
	seed, _ := strconv.Atoi(os.Getenv(crashSeedEnv))
	sync := []SyncMode{NoSync, SyncFile, SyncDir}[seed%3]
	s, err := NewStore(Config{Dir: dir, MaxBytes: crashMax, Sync: sync})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	for i := seed * 1_000_000; ; i++ {
		key := fmt.Sprintf("k%d", i%crashKeys)
		if i%17 == 0 {
			_ = s.Delete(ctx, key)
			continue
		}
		if err := s.Set(ctx, key, crashValue(key, i), time.Hour); err != nil {
			fmt.Println("set:", err)
			os.Exit(2)
		}
	}
}

// TestCrash SIGKILLs a writing child process at random moments, then opens
// the directory and checks that every entry that reads back is exactly one
// that was written, that no corrupt file or temp file survives the open, and
// that the index matches the disk.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	const rounds = 25
	budget := time.Now().Add(30 * time.Second)
	hits, done, torn := 0, 0, 0
	for round := 1; round <= rounds && time.Now().Before(budget); round++ {
		runAndKill(t, dir, round, time.Duration(rand.IntN(40))*time.Millisecond)
		for _, f := range walkFiles(t, dir) {
			if strings.HasPrefix(filepath.Base(f.path), tempPrefix) {
				torn++ // killed mid-write
			}
		}
		hits += verifyCrashDir(t, dir)
		done++
	}
	t.Logf("%d rounds, %d killed mid-write, %d entries verified", done, torn, hits)
	if done < 5 || hits == 0 {
		t.Fatalf("only %d rounds and %d verified entries: the test proved nothing", done, hits)
	}
}

// runAndKill starts the writer, lets it write for d after it is ready and
// kills it with SIGKILL.
func runAndKill(t *testing.T, dir string, seed int, d time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashSeedEnv+"="+strconv.Itoa(seed))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
		t.Logf("child: %s", sc.Text())
	}
	time.Sleep(d)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// verifyCrashDir opens dir after a crash, checks it and returns the number
// of entries that read back.
func verifyCrashDir(t *testing.T, dir string) int {
	t.Helper()
	log := &errLog{}
	s, err := NewStore(Config{Dir: dir, MaxBytes: crashMax, OnError: log.hook})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer s.Close()
	for _, f := range walkFiles(t, dir) {
		if strings.HasPrefix(filepath.Base(f.path), tempPrefix) {
			t.Fatalf("temp file %s survived the open", f.path)
		}
	}
	hits := 0
	for i := range crashKeys {
		key := fmt.Sprintf("k%d", i)
		v, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%s): %v", key, err)
		}
		if v == nil {
			continue
		}
		if err := checkCrashValue(key, v); err != nil {
			t.Fatal(err)
		}
		hits++
	}
	if st := s.Stats(); st.Corrupt != 0 || log.len() != 0 {
		t.Fatalf("a killed writer left corrupt files: %+v, %v", st, log.errs)
	}
	checkConsistent(t, s)
	return hits
}
