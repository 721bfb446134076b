package benchcmd

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/memcached"
)

// layoutSpec is one tier layout: an LRU front over an optional lower tier.
type layoutSpec struct {
	id       string // flag value
	name     string // display name
	lower    string // "", "disk", "memcached", "mcpool" or an external's name
	compress bool   // Compress the lower tier
	replicas int    // memcached replicas of a pool layout
}

var layoutSpecs = []layoutSpec{
	{id: "lru", name: "lru"},
	{id: "lru-disk", name: "lru > disk", lower: "disk"},
	{id: "lru-zdisk", name: "lru > zstd(disk)", lower: "disk", compress: true},
	{id: "lru-mc", name: "lru > memcached", lower: "memcached"},
	{id: "lru-zmc", name: "lru > zstd(memcached)", lower: "memcached", compress: true},
	{id: "lru-redis", name: "lru > redis", lower: "redis"},
	{id: "lru-zredis", name: "lru > zstd(redis)", lower: "redis", compress: true},
	{id: "lru-mc3", name: "lru > memcached×3", lower: "mcpool", replicas: 1},
	{id: "lru-mc3r2", name: "lru > memcached×3 r2", lower: "mcpool", replicas: 2},
}

// layoutIDs returns the flag values of every layout, in run order.
func layoutIDs() []string {
	ids := make([]string, len(layoutSpecs))
	for i, s := range layoutSpecs {
		ids[i] = s.id
	}
	return ids
}

// defaultLayoutIDs returns the layouts a run without -layouts runs: all
// but those of an external lower tier not registered in this binary.
func defaultLayoutIDs() []string {
	var ids []string
	for _, s := range layoutSpecs {
		if !s.delegated() {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// externalIDs returns the layouts over the external lower tier name.
func externalIDs(name string) []string {
	var ids []string
	for _, s := range layoutSpecs {
		if s.lower == name {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// delegated reports whether the layout's lower tier lives in a module
// whose Builder is not registered in this binary.
func (s layoutSpec) delegated() bool {
	_, ext := externalOf(s.lower)
	return ext && registered(s.lower) == nil
}

// parseLayouts parses the -layouts list; the result keeps the run order.
func parseLayouts(list string) ([]string, error) {
	var out []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
			continue
		case !slices.Contains(layoutIDs(), id):
			return nil, fmt.Errorf("-layouts: unknown layout %q (want some of %s)", id, strings.Join(layoutIDs(), ", "))
		case !slices.Contains(out, id):
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-layouts: no layout given")
	}
	return out, nil
}

func specOf(id string) layoutSpec {
	i := slices.IndexFunc(layoutSpecs, func(s layoutSpec) bool { return s.id == id })
	return layoutSpecs[i]
}

// tier is one built tier of a stack.
type tier struct {
	name  string
	count *counting    // nil for the front: counts what reaches a lower tier
	held  func() int64 // bytes the tier holds, -1 when unknown
}

// stack is a built layout: the Manager the clients use and its tiers.
type stack struct {
	spec    layoutSpec
	mgr     tiercache.Manager
	layered *tiercache.Layered // nil for a single tier
	front   *lru.Manager
	mc      *memcached.Manager // the pool's Manager in a pool layout
	tiers   []tier
	closers []func() error // run in reverse order by close
}

func (s *stack) close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// build constructs the layout spec on fresh tiers.
func (e *env) build(spec layoutSpec) (_ *stack, err error) {
	s := &stack{spec: spec}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	s.front, err = lru.New(e.lruConfig())
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.front.Close)
	s.tiers = append(s.tiers, tier{name: "lru", held: s.front.Bytes})
	if spec.lower == "" {
		s.mgr = s.front
		return s, nil
	}
	var lower tiercache.Manager
	var t tier
	switch spec.lower {
	case "disk":
		lower, t, err = e.buildDisk(s)
	case "memcached":
		lower, t, err = e.buildMemcached(s)
	case "mcpool":
		lower, t, err = e.buildPool(s)
	default:
		lower, t, err = e.buildExternal(s)
	}
	if err != nil {
		return nil, err
	}
	t.count = &counting{next: lower}
	lower = t.count
	if spec.compress {
		lower = tiercache.Compress(lower)
		t.name = "zstd(" + t.name + ")"
	}
	s.tiers = append(s.tiers, t)
	s.layered = tiercache.NewLayered([]tiercache.Manager{s.front, lower},
		tiercache.WithTierNames("lru", t.name))
	s.closers = append(s.closers, s.layered.Close)
	s.mgr = s.layered
	return s, nil
}

func (e *env) lruConfig() lru.Config {
	return lru.Config{MaxEntries: e.o.lruEntries, MaxBytes: int64(e.o.lruBytes), Shards: e.o.lruShards, Eviction: e.eviction}
}

func (e *env) buildDisk(s *stack) (tiercache.Manager, tier, error) {
	dir, err := os.MkdirTemp("", "tiercache-bench-disk-")
	if err != nil {
		return nil, tier{}, err
	}
	s.closers = append(s.closers, func() error { return os.RemoveAll(dir) })
	sync, _ := parseSync(e.o.diskSync)
	d, err := disk.New(disk.Config{Dir: dir, MaxBytes: int64(e.o.diskBytes), Sync: sync})
	if err != nil {
		return nil, tier{}, err
	}
	s.closers = append(s.closers, d.Close)
	return d, tier{name: "disk", held: func() int64 { return d.Stats().Bytes }}, nil
}

func (e *env) buildMemcached(s *stack) (tiercache.Manager, tier, error) {
	if e.mc == nil {
		return nil, tier{}, errors.New("no memcached available")
	}
	prefix, err := e.mc.prepare(s.spec.id)
	if err != nil {
		return nil, tier{}, err
	}
	m, err := memcached.New(memcached.Config{
		Servers:      []string{e.mc.addr},
		Prefix:       prefix,
		MaxIdleConns: max(64, 2*e.o.concurrency),
	})
	if err != nil {
		return nil, tier{}, err
	}
	s.closers = append(s.closers, m.Close)
	base := e.mc.bytes()
	return m, tier{name: "memcached", held: func() int64 {
		if n := e.mc.bytes(); n >= 0 && base >= 0 {
			return n - base
		}
		return -1
	}}, nil
}

// buildExternal makes the layout's lower tier with its registered Backend.
func (e *env) buildExternal(s *stack) (tiercache.Manager, tier, error) {
	be := e.ext[s.spec.lower]
	if be == nil {
		return nil, tier{}, fmt.Errorf("no %s available", s.spec.lower)
	}
	t, err := be.Tier(s.spec.id)
	if err != nil {
		return nil, tier{}, err
	}
	if t.Close != nil {
		s.closers = append(s.closers, t.Close)
	}
	held := t.Held
	if held == nil {
		held = func() int64 { return -1 }
	}
	return t.Manager, tier{name: t.Name, held: held}, nil
}

// parseSync parses -disk-sync.
func parseSync(s string) (disk.SyncMode, error) {
	switch s {
	case "none":
		return disk.NoSync, nil
	case "file":
		return disk.SyncFile, nil
	case "dir":
		return disk.SyncDir, nil
	}
	return 0, fmt.Errorf("-disk-sync must be none, file or dir, got %q", s)
}
