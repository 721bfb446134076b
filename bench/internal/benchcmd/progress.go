package benchcmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressMode says how the command reports progress on stderr.
type progressMode int

const (
	// progressOff prints nothing.
	progressOff progressMode = iota
	// progressTerminal redraws one line every 200 ms (stderr is a terminal).
	progressTerminal
	// progressLines prints a line when a layout has been measured, and one
	// every progressEvery within a long replay, for logs (CI, pipes, files).
	progressLines
)

// progressEvery is the interval of progress lines when stderr is not a
// terminal; a variable for tests.
var progressEvery = 10 * time.Second

// progressModeOf returns progressTerminal when stderr is the process's
// stderr and a terminal, and progressLines otherwise.
func progressModeOf(stderr io.Writer) progressMode {
	if f, ok := stderr.(*os.File); ok && f == os.Stderr {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return progressTerminal
		}
	}
	return progressLines
}

// progress reports the replay of total ops (or of d, when d > 0) named
// label, whose completed operations done counts; the returned function
// stops it. On a terminal it redraws a line every 200 ms and clears it at
// the end; otherwise it prints a line every progressEvery and, except for
// a warm-up, one when the replay ends.
func (e *env) progress(label string, done *atomic.Int64, total int64, d time.Duration) func() {
	mode := e.o.progress
	if mode == progressOff {
		return func() {}
	}
	start := time.Now()
	status := func() string {
		n := done.Load()
		if d > 0 {
			return fmt.Sprintf("%s: %d ops, %v/%v", label, n, time.Since(start).Round(time.Second), d)
		}
		return fmt.Sprintf("%s: %d/%d ops (%.0f%%)", label, n, total, 100*float64(n)/float64(max(total, 1)))
	}
	line := func() string { return "\r\033[K" + status() }
	every := 200 * time.Millisecond
	if mode == progressLines {
		every = progressEvery
		line = func() string {
			return fmt.Sprintf("bench: %s, %v elapsed\n", status(), time.Since(start).Round(time.Second))
		}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprint(e.stderr, line())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		switch {
		case mode == progressTerminal:
			fmt.Fprint(e.stderr, "\r\033[K")
		case !strings.HasSuffix(label, " warm-up"):
			fmt.Fprintf(e.stderr, "bench: %s: %d ops in %v\n", label, done.Load(), time.Since(start).Round(time.Millisecond))
		}
	}
}
