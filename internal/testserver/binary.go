package testserver

import (
	"fmt"
	"os"
	"os/exec"
)

// Binary names a server binary: the environment variable that gives its
// path, the names looked up on $PATH otherwise, and how to install it.
type Binary struct {
	// Env is the variable holding the binary's path, e.g. "MEMCACHED_BIN".
	Env string
	// Names are looked up on $PATH in order when Env is unset; the first
	// names the binary in messages.
	Names []string
	// Install says how to get the binary, for the skip message, e.g.
	// "memcached (apt-get install memcached)".
	Install string
}

// TB is the part of testing.TB that Require uses. This package does not
// import testing, so that commands can use it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Path returns the binary's path: $Env when set (the file must exist),
// otherwise the first of Names found on $PATH.
func (b Binary) Path() (string, error) {
	if bin := os.Getenv(b.Env); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%q: %w", b.Env, bin, err)
		}
		return bin, nil
	}
	var err error
	for _, name := range b.Names {
		var bin string
		if bin, err = exec.LookPath(name); err == nil {
			return bin, nil
		}
	}
	return "", fmt.Errorf("%s binary not found on PATH (set %s): %w", b.Names[0], b.Env, err)
}

// Require returns the binary's path. When there is none, it skips tb with
// a message, prefixed with pkg, saying how to install it, or fails tb when
// $CI is "true" (CI must never pass by skipping), and returns false: a TB
// whose Skipf and Fatalf return lets the caller stop.
func (b Binary) Require(tb TB, pkg string) (string, bool) {
	tb.Helper()
	bin, err := b.Path()
	if err == nil {
		return bin, true
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s: %v (CI=true: %s is required)", pkg, err, b.Names[0])
	} else {
		tb.Skipf("%s: %v; install %s or set %s to run this test", pkg, err, b.Install, b.Env)
	}
	return "", false
}
