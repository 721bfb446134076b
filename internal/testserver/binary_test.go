package testserver

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// fakeTB records Skip and Fatal instead of stopping the goroutine.
type fakeTB struct {
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...) }

var testBinary = Binary{Env: "TESTSERVER_BIN", Names: []string{"no-such-server-binary", "another-missing-one"},
	Install: "the server (apt-get install it)"}

func TestBinaryPath(t *testing.T) {
	t.Setenv("TESTSERVER_BIN", "")
	if _, err := testBinary.Path(); err == nil || !strings.Contains(err.Error(), "no-such-server-binary binary not found on PATH (set TESTSERVER_BIN)") {
		t.Fatalf("Path without a binary: %v", err)
	}
	t.Setenv("TESTSERVER_BIN", "/nonexistent/server")
	if _, err := testBinary.Path(); err == nil || !strings.Contains(err.Error(), `TESTSERVER_BIN="/nonexistent/server"`) {
		t.Fatalf("Path with a missing $TESTSERVER_BIN: %v", err)
	}
	t.Setenv("TESTSERVER_BIN", os.Args[0])
	if bin, err := testBinary.Path(); bin != os.Args[0] || err != nil {
		t.Fatalf("Path with $TESTSERVER_BIN set = %q, %v", bin, err)
	}
}

func TestRequire(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantSkip bool
	}{{"", true}, {"false", true}, {"true", false}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("TESTSERVER_BIN", "/nonexistent/server")
			t.Setenv("CI", tc.ci)
			f := &fakeTB{}
			if bin, ok := testBinary.Require(f, "pkgtest"); ok || bin != "" {
				t.Fatalf("Require = %q, %v without a binary", bin, ok)
			}
			msg := f.skipped + f.failed
			if tc.wantSkip && (f.skipped == "" || f.failed != "" || !strings.Contains(msg, "install the server (apt-get install it) or set TESTSERVER_BIN")) {
				t.Fatalf("want skip with install hint; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if !tc.wantSkip && (f.failed == "" || f.skipped != "" || !strings.Contains(msg, "CI=true: no-such-server-binary is required")) {
				t.Fatalf("want fatal; skipped=%q failed=%q", f.skipped, f.failed)
			}
			if !strings.HasPrefix(msg, "pkgtest: ") {
				t.Errorf("message %q lacks the package prefix", msg)
			}
		})
	}
	t.Setenv("TESTSERVER_BIN", os.Args[0])
	f := &fakeTB{}
	if bin, ok := testBinary.Require(f, "pkgtest"); !ok || bin != os.Args[0] || f.skipped+f.failed != "" {
		t.Fatalf("Require with a binary = %q, %v; skipped=%q failed=%q", bin, ok, f.skipped, f.failed)
	}
}
