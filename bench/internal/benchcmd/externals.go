package benchcmd

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// extFlags are the flags of one external lower tier: -NAME and
// -NAME-memory.
type extFlags struct {
	addr   string
	memory byteSize
}

// addExternalFlags registers -NAME and -NAME-memory for every external
// lower tier, in every binary: the main module parses them before handing
// a run over to the tier's module.
func addExternalFlags(fs *flag.FlagSet, o *options) {
	o.ext = map[string]*extFlags{}
	for _, x := range externals {
		f := &extFlags{memory: 1 << 30}
		o.ext[x.name] = f
		fs.StringVar(&f.addr, x.name, "", fmt.Sprintf("%s host:port to use; empty: start one from PATH or $%s if found; \"off\": none "+
			"(layouts %s, which run in module bench/%s)", x.name, x.env, strings.Join(externalIDs(x.name), ", "), x.module))
		fs.Var(&f.memory, x.name+"-memory", fmt.Sprintf("maxmemory of a %s started by the command (allkeys-lru eviction)", x.server))
	}
}

// off reports whether the tier was turned off with -NAME off.
func (f *extFlags) off() bool { return f.addr == "off" || f.addr == "none" }

// reachable reports whether the tier has a server to use: one given, or a
// binary to start. When it has none, why says so.
func (o *options) reachable(x external) (why string, ok bool) {
	f := o.ext[x.name]
	switch {
	case f.off():
		return "-" + x.name + " off", false
	case f.addr != "":
		return "", true
	}
	if _, err := x.binary(); err != nil {
		return fmt.Sprintf("no %s on PATH (or $%s) and no -%s", x.server, x.env, x.name), false
	}
	return "", true
}

// delegation returns the external lower tier whose module must run this
// run: a requested layout needs it, it is not registered here, and it has
// a server to use (otherwise its layouts are skipped here, with a note,
// without building its module).
func (o *options) delegation() (external, bool) {
	for _, id := range o.layouts {
		spec := specOf(id)
		if !spec.delegated() {
			continue
		}
		x, _ := externalOf(spec.lower)
		if _, ok := o.reachable(x); ok {
			return x, true
		}
	}
	return external{}, false
}

// hintExternals prints, for a run without -layouts, one line per external
// lower tier whose server is at hand but whose layouts are not in the
// default run (they need the tier's module), saying how to add them.
func (o *options) hintExternals(stderr io.Writer) {
	if o.layoutsSet {
		return
	}
	for _, x := range externals {
		if registered(x.name) != nil {
			continue
		}
		if _, ok := o.reachable(x); ok {
			ids := append(defaultLayoutIDs(), externalIDs(x.name)...)
			fmt.Fprintf(stderr, "bench: %s found; the %s layouts are not in the default run (they run in module bench/%s): add them with -layouts %s\n",
				x.server, x.name, x.module, strings.Join(ids, ","))
		}
	}
}

// startExternals starts the backend of every external lower tier that a
// requested layout needs. A tier that cannot start is reported on stderr
// and its layouts are skipped; the others still run.
func (e *env) startExternals() {
	for _, x := range externals {
		if !slices.ContainsFunc(e.o.layouts, func(id string) bool { return specOf(id).lower == x.name }) {
			continue
		}
		why, ok := e.o.reachable(x)
		switch {
		case !ok && e.o.ext[x.name].off():
			continue
		case !ok:
			fmt.Fprintf(e.stderr, "bench: %s: skipping the %s layouts\n", why, x.name)
			continue
		case registered(x.name) == nil:
			fmt.Fprintf(e.stderr, "bench: the %s layouts run in module bench/%s (cd bench/%s && go run .): skipping them\n", x.name, x.module, x.module)
			continue
		}
		f := e.o.ext[x.name]
		be, err := registered(x.name).Start(Env{Addr: f.addr, Memory: int64(f.memory), Concurrency: e.o.concurrency, Stderr: e.stderr})
		if err != nil {
			fmt.Fprintf(e.stderr, "bench: %s: %v: skipping the %s layouts\n", x.name, err, x.name)
			continue
		}
		e.ext[x.name] = be
	}
}

// closeExternals stops the backends startExternals started.
func (e *env) closeExternals() {
	for name, be := range e.ext {
		if err := be.Close(); err != nil {
			fmt.Fprintf(e.stderr, "bench: %s: close: %v\n", name, err)
		}
	}
}
