//go:build unix

package benchcmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tiercache/tiercache/internal/testlog"
)

// helperEnv makes the test binary run Main on the arguments after "--"
// instead of the tests (the os/exec helper-process pattern).
const helperEnv = "TIERCACHE_BENCH_HELPER"

// TestMain runs the command itself when helperEnv is set, after every
// package initialisation, as the real command would.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "1" {
		os.Exit(m.Run())
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Exit(Main(os.Args[i+1:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(2)
}

// TestInterruptCleansUp signals the command while it runs a disk layout: it must exit with 130 and leave no temporary directory behind
// (it used to die at once and leave tiercache-bench-disk-* in $TMPDIR).
func TestInterruptCleansUp(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--",
				"-keys", "500", "-max-size", "16K", "-median-size", "2K", "-lru-entries", "100",
				"-layouts", "lru-disk", "-memcached", "off", "-duration", "1m")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "TMPDIR="+tmp)
			var stderr testlog.Buffer // any concurrent writer and reader will do
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Signal once the disk tier's directory exists, while the
			// layout warms up or is measured.
			var dirs []string
			for deadline := time.Now().Add(time.Minute); len(dirs) == 0 && time.Now().Before(deadline); {
				select {
				case err := <-exited:
					t.Fatalf("exited (%v) before its disk directory appeared; stderr:\n%s", err, stderr.String())
				case <-time.After(10 * time.Millisecond):
				}
				dirs, _ = filepath.Glob(filepath.Join(tmp, "tiercache-bench-disk-*"))
			}
			if len(dirs) != 1 {
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("%d disk directories after a minute, want 1; stderr:\n%s", len(dirs), stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := <-exited
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 130 {
				t.Fatalf("exit %v, want status 130; stderr:\n%s", err, stderr.String())
			}
			t.Logf("stopped %v after the signal", time.Since(start).Round(time.Millisecond))
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left in TMPDIR after the signal: %v", left)
			}
		})
	}
}
