package benchcmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
)

// Handing a run over to a nested module. The layouts of an external lower
// tier (redis) are built by a Builder in the tier's own module
// (bench/redis), so that the main module does not depend on the tier's
// client library. When this binary has no Builder for a requested layout's
// tier, it builds that module's command with the go command and runs it
// with the same arguments, in the same working directory (so relative
// output paths mean the same), passing its stdout, stderr and exit status
// through.

// modulePathPrefix is the import path of the bench directory.
const modulePathPrefix = "github.com/tiercache/tiercache/bench/"

// delegate runs the whole run in x's module and returns its exit status.
func delegate(x external, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "bench: %s layouts live in module bench/%s so that the main module does not depend on %s; running it\n",
		x.name, x.module, x.client)
	dir, err := moduleDir(x)
	if err == nil {
		var code int
		if code, err = buildAndRun(dir, args, stdout, stderr); err == nil {
			return code
		}
	}
	fmt.Fprintf(stderr, "bench: cannot run module bench/%s from here: %v\nbench: run it by hand from the repository's root:\n\n\t%s\n\n",
		x.module, err, manualCommand(x, args))
	return 1
}

// moduleDir finds the directory of x's module: beside this package's
// source (known when the binary was built from a checkout, as go run
// does), else under the working directory or one of its parents.
func moduleDir(x external) (string, error) {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", x.module))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, "bench", x.module))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	want := modulePathPrefix + x.module
	for _, dir := range candidates {
		if modulePath(filepath.Join(dir, "go.mod")) == want {
			return filepath.Clean(dir), nil
		}
	}
	return "", fmt.Errorf("no directory with module %s found beside the bench's source or above the working directory", want)
}

// modulePath returns the module path a go.mod declares, "" when it cannot
// be read.
func modulePath(goMod string) string {
	f, err := os.Open(goMod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// buildAndRun builds the command of the module in dir into a temporary
// directory and runs it with args in the working directory. err is set
// only when the command could not be built or started.
func buildAndRun(dir string, args []string, stdout, stderr io.Writer) (code int, err error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return 0, fmt.Errorf("the go command is not on PATH: %w", err)
	}
	tmp, err := os.MkdirTemp("", "tiercache-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench"+exeSuffix())
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir, build.Stdout, build.Stderr = dir, stderr, stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("go build in %s: %w", dir, err)
	}
	// An interrupt from the terminal reaches the child too; one sent to
	// this process alone, or a SIGTERM, is passed on. Either way wait for
	// the child to stop (and stop its servers) instead of dying first, so
	// that the temporary directory is removed.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				_ = cmd.Process.Signal(sig)
			case <-exited:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(exited)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() < 0 { // killed by a signal
			return 1, nil
		}
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// manualCommand is the command line that runs args in x's module from the
// repository's root, with relative output paths made absolute (they would
// otherwise land in the module's directory).
func manualCommand(x external, args []string) string {
	words := []string{"cd", "bench/" + x.module, "&&", "go", "run", "."}
	for _, a := range absPaths(args) {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// pathFlags are the flags whose value is a file path.
var pathFlags = []string{"json", "csv", "html", "svg", "trace"}

// absPaths returns args with the values of pathFlags made absolute.
func absPaths(args []string) []string {
	out := append([]string(nil), args...)
	abs := func(p string) string {
		if p == "-" || p == "" || filepath.IsAbs(p) {
			return p
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	for i := 0; i < len(out); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(out[i], "-"), "=")
		if !strings.HasPrefix(out[i], "-") || !slices.Contains(pathFlags, name) {
			continue
		}
		if hasValue {
			out[i] = out[i][:len(out[i])-len(value)] + abs(value)
		} else if i+1 < len(out) {
			i++
			out[i] = abs(out[i])
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
