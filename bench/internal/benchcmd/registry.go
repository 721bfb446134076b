package benchcmd

import (
	"fmt"
	"io"
	"sync"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/testserver"
)

// A Builder makes the lower tier of the layouts whose lower tier is
// registered under its name (see Register). The command calls Start once
// per run, when a requested layout needs the tier, and Backend.Tier before
// each such layout.
type Builder interface {
	// Start readies the backend for a run: it starts a server (Env.Addr
	// "") or checks the one given (Env.Addr "host:port"). An error skips
	// the tier's layouts, with the error on stderr; the other layouts run.
	Start(env Env) (Backend, error)
}

// Env is what a Builder is given: its tier's flags and the run's settings.
type Env struct {
	// Addr is the value of the tier's -NAME flag: a server address, or ""
	// to start a server (the command found its binary; it never calls
	// Start when there is none, or with -NAME off).
	Addr string
	// Memory is the tier's -NAME-memory flag: the memory of a server the
	// builder starts.
	Memory int64
	// Concurrency is the number of concurrent clients (-concurrency), to
	// size connection pools.
	Concurrency int
	// Stderr receives messages for the user.
	Stderr io.Writer
}

// Backend is a started lower tier: a server and what it takes to make one
// tier on it per layout.
type Backend interface {
	// Tier returns a new tier for the layout named layout (a -layouts
	// id), empty when the backend owns its server; on a shared server it
	// uses a key prefix of its own.
	Tier(layout string) (*Tier, error)
	// Close stops what Start started.
	Close() error
}

// Tier is one lower tier of one layout, made by a Backend.
type Tier struct {
	// Name is the tier's display name, e.g. "redis".
	Name string
	// Manager is the tier; the command wraps it in its counting decorator
	// (and in Compress for a compressed layout).
	Manager tiercache.Manager
	// Held returns the bytes the tier holds, -1 when unknown; nil means
	// unknown.
	Held func() int64
	// Close releases the tier (its Manager and client); nil for none. It
	// runs after the Layered over the tier is closed.
	Close func() error
}

// external is a lower tier whose builder lives in a nested module, so that
// the main module does not depend on its client library.
type external struct {
	name   string                 // Register name, -NAME and -NAME-memory flags
	module string                 // the module's directory under bench/
	client string                 // the client library the module depends on
	server string                 // the server binary the command starts
	env    string                 // the variable that can name that binary
	binary func() (string, error) // finds the server binary
}

var externals = []external{
	{name: "redis", module: "redis", client: "go-redis", server: "redis-server", env: "REDIS_BIN", binary: redisBinary.Path},
}

// redisBinary finds redis-server as internal/redistest does (that package
// imports testing, which this command does not link).
var redisBinary = testserver.Binary{Env: "REDIS_BIN", Names: []string{"redis-server", "valkey-server"},
	Install: "redis-server (apt-get install redis-server)"}

func externalOf(lower string) (external, bool) {
	for _, x := range externals {
		if x.name == lower {
			return x, true
		}
	}
	return external{}, false
}

var (
	registryMu sync.Mutex
	registry   = map[string]Builder{}
)

// Register makes b build the lower tier name ("redis") for this binary's
// runs, which then run that tier's layouts here instead of handing the run
// over to the tier's module. Call it from an init function or from main
// before Main. It panics when name is not a known lower tier or is
// registered twice.
func Register(name string, b Builder) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := externalOf(name); !ok {
		panic(fmt.Sprintf("benchcmd: Register of unknown lower tier %q", name))
	}
	if _, dup := registry[name]; dup || b == nil {
		panic(fmt.Sprintf("benchcmd: Register of %q twice or with a nil Builder", name))
	}
	registry[name] = b
}

// registered returns the Builder of name, nil when none is registered.
func registered(name string) Builder {
	registryMu.Lock()
	defer registryMu.Unlock()
	return registry[name]
}
