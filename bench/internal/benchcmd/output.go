package benchcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// output is one of the files a run can write.
type output struct {
	flag  string // "json", "csv", "html", "svg"
	path  string // "" for none, "-" for stdout
	write func(io.Writer, *Report) error
}

func (o *options) outputs() []output {
	return []output{
		{"json", o.jsonPath, writeJSON},
		{"csv", o.csvPath, writeCSV},
		{"html", o.htmlPath, writeHTML},
		{"svg", o.svgPath, writeSVG},
	}
}

// toStdout reports whether an output goes to stdout ("-").
func (o *options) toStdout() bool {
	for _, out := range o.outputs() {
		if out.path == "-" {
			return true
		}
	}
	return false
}

// validateOutputs allows "-" (stdout) for one output at most.
func (o *options) validateOutputs() error {
	var dashes []string
	for _, out := range o.outputs() {
		if out.path == "-" {
			dashes = append(dashes, "-"+out.flag)
		}
	}
	if len(dashes) > 1 {
		return fmt.Errorf("only one output may go to stdout (-), got %s", strings.Join(dashes, ", "))
	}
	return nil
}

// report prints the table and writes the outputs of a finished run, and
// returns the exit status: 1 if a layout or an output failed. Values that
// are not finite are replaced first (see makeFinite). When an output goes
// to stdout, the table goes to stderr, so that stdout holds only that
// output.
func report(o *options, rep *Report, stdout, stderr io.Writer) int {
	rep.makeFinite()
	table := stdout
	if o.toStdout() {
		table = stderr
	}
	printTable(table, rep)
	status := 0
	if err := writeOutputs(o, rep, stdout); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "bench: %s\n", line)
		}
		status = 1
	}
	if rep.failed() {
		status = 1
	}
	return status
}

// writeOutputs writes each requested output on its own: one that fails
// does not stop the others. It returns their errors joined.
func writeOutputs(o *options, rep *Report, stdout io.Writer) error {
	var errs []error
	for _, out := range o.outputs() {
		if out.path == "" {
			continue
		}
		write := func(w io.Writer) error { return out.write(w, rep) }
		var err error
		if out.path == "-" {
			err = write(stdout)
		} else {
			err = writeFile(out.path, write)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s %s: %w", out.flag, out.path, err))
		}
	}
	return errors.Join(errs...)
}

// writeFile writes path through a temporary file in its directory that is
// renamed into place once complete, so that a failed write leaves neither
// a partial file nor a clobbered older one.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
