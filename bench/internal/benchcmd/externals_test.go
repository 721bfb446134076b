package benchcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/internal/redistest"
)

// tinyArgs is a small workload for the external-tier tests.
var tinyArgs = []string{"-keys", "500", "-ops", "3000", "-warmup", "500", "-max-size", "16K", "-median-size", "2K",
	"-lru-entries", "100", "-lru-bytes", "256K", "-memcached", "off"}

func args(extra ...string) []string { return append(append([]string(nil), tinyArgs...), extra...) }

// fakeBuilder builds lower tiers on lru Managers, recording the calls.
type fakeBuilder struct {
	mu       sync.Mutex
	startErr error
	envs     []Env
	layouts  []string
	closed   []string // "tier:<layout>", "backend"
}

func (f *fakeBuilder) Start(env Env) (Backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.envs = append(f.envs, env)
	if f.startErr != nil {
		return nil, f.startErr
	}
	return fakeBackend{f}, nil
}

type fakeBackend struct{ f *fakeBuilder }

func (b fakeBackend) Tier(layout string) (*Tier, error) {
	m, err := lru.New(lru.Config{MaxEntries: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		return nil, err
	}
	b.f.mu.Lock()
	b.f.layouts = append(b.f.layouts, layout)
	b.f.mu.Unlock()
	return &Tier{Name: "fake", Manager: m, Held: m.Bytes, Close: func() error {
		b.f.mu.Lock()
		b.f.closed = append(b.f.closed, "tier:"+layout)
		b.f.mu.Unlock()
		return m.Close()
	}}, nil
}

func (b fakeBackend) Close() error {
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	b.f.closed = append(b.f.closed, "backend")
	return nil
}

// withRegistered registers b as the redis builder for the test only.
func withRegistered(t *testing.T, b Builder) {
	t.Helper()
	registryMu.Lock()
	saved := registry
	registry = map[string]Builder{"redis": b}
	registryMu.Unlock()
	t.Cleanup(func() {
		registryMu.Lock()
		registry = saved
		registryMu.Unlock()
	})
}

func readReport(t *testing.T, path string) Report {
	t.Helper()
	var rep Report
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRegisteredLowerTier: with a Builder registered, the redis layouts run
// here (no hand-over) on the tiers it makes: Start once with the flags,
// Tier per layout, everything closed, the tier's name and bytes reported.
func TestRegisteredLowerTier(t *testing.T) {
	f := &fakeBuilder{}
	withRegistered(t, f)
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	code := Main(args("-layouts", "lru-redis,lru-zredis", "-redis", "fake:1", "-redis-memory", "64M", "-concurrency", "3", "-json", out), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("Main = %d; stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "running it") {
		t.Errorf("a registered tier's run was handed over:\n%s", stderr.String())
	}
	if len(f.envs) != 1 || f.envs[0].Addr != "fake:1" || f.envs[0].Memory != 64<<20 || f.envs[0].Concurrency != 3 {
		t.Errorf("Start calls: %+v", f.envs)
	}
	if !slices.Equal(f.layouts, []string{"lru-redis", "lru-zredis"}) {
		t.Errorf("Tier calls: %v", f.layouts)
	}
	if !slices.Equal(f.closed, []string{"tier:lru-redis", "tier:lru-zredis", "backend"}) {
		t.Errorf("closed: %v", f.closed)
	}
	rep := readReport(t, out)
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	for i, want := range []string{"fake", "zstd(fake)"} {
		r := rep.Rows[i]
		if len(r.Tiers) != 2 || r.Tiers[1].Name != want || r.Tiers[1].Hits == 0 || r.Tiers[1].BytesHeld <= 0 || r.Errors != 0 {
			t.Errorf("row %s: %+v", r.Name, r.Tiers)
		}
	}
	if z, p := rep.Rows[1].BytesMovedDown, rep.Rows[0].BytesMovedDown; z <= 0 || z >= p {
		t.Errorf("moved down: %d compressed, %d plain", z, p)
	}
}

// TestLowerTierUnavailable: a Builder that cannot start, no server binary,
// or -redis off: the redis layouts are skipped (with a message, except for
// off) and the others run, without handing the run over.
func TestLowerTierUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		register  bool
		extra     []string
	}{
		{"start fails", "bench: redis: no server here: skipping the redis layouts", true, []string{"-redis", "fake:1"}},
		{"no binary", "no redis-server on PATH (or $REDIS_BIN) and no -redis: skipping the redis layouts", false, nil},
		{"off", "", false, []string{"-redis", "off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("REDIS_BIN", filepath.Join(t.TempDir(), "no-redis-server"))
			if tc.register {
				withRegistered(t, &fakeBuilder{startErr: errors.New("no server here")})
			}
			out := filepath.Join(t.TempDir(), "out.json")
			var stdout, stderr bytes.Buffer
			if code := Main(args(append(tc.extra, "-layouts", "lru,lru-redis", "-json", out)...), &stdout, &stderr); code != 0 {
				t.Fatalf("Main = %d; stderr:\n%s", code, stderr.String())
			}
			if tc.msg != "" && !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("stderr lacks %q:\n%s", tc.msg, stderr.String())
			}
			if tc.msg == "" && strings.Contains(stderr.String(), "redis") {
				t.Errorf("-redis off: stderr mentions redis:\n%s", stderr.String())
			}
			if strings.Contains(stderr.String(), "running it") {
				t.Errorf("handed over without a server:\n%s", stderr.String())
			}
			rep := readReport(t, out)
			if len(rep.Rows) != 1 || rep.Rows[0].Layout != "lru" || !slices.Contains(rep.Notes, "skipped lru > redis: no redis") {
				t.Errorf("rows %d, notes %q", len(rep.Rows), rep.Notes)
			}
		})
	}
}

// TestRedisHint: a run without -layouts stays on the default layouts and,
// when redis-server is found, says in one line how to add the redis ones;
// it says nothing of redis when there is none.
func TestRedisHint(t *testing.T) {
	const hint = "add them with -layouts lru,lru-disk,lru-zdisk,lru-mc,lru-zmc,lru-mc3,lru-mc3r2,lru-redis,lru-zredis"
	for _, found := range []bool{true, false} {
		bin := filepath.Join(t.TempDir(), "redis-server")
		if found {
			if err := os.WriteFile(bin, nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("REDIS_BIN", bin)
		var stdout, stderr bytes.Buffer
		if code := Main(args("-lru-entries", "100000", "-lru-bytes", "1G"), &stdout, &stderr); code != 0 {
			t.Fatalf("Main = %d; stderr:\n%s", code, stderr.String())
		}
		lines := 0
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "redis") {
				lines++
			}
		}
		if (lines == 1) != found || lines > 1 || (found && !strings.Contains(stderr.String(), hint)) {
			t.Errorf("redis-server found %v: stderr:\n%s", found, stderr.String())
		}
		if strings.Contains(stdout.String(), "redis") {
			t.Errorf("a default run ran a redis layout:\n%s", stdout.String())
		}
	}
}

// TestModuleDir: the hand-over finds module bench/redis beside the source.
func TestModuleDir(t *testing.T) {
	dir, err := moduleDir(externals[0])
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "redis" || filepath.Base(filepath.Dir(dir)) != "bench" {
		t.Errorf("moduleDir = %s", dir)
	}
	if modulePath(filepath.Join(dir, "go.mod")) != "github.com/tiercache/tiercache/bench/redis" {
		t.Errorf("%s/go.mod is not module bench/redis", dir)
	}
	if got := modulePath(filepath.Join(t.TempDir(), "go.mod")); got != "" {
		t.Errorf("modulePath of a missing file = %q", got)
	}
}

// TestManualCommand: the command printed when the hand-over cannot run
// makes relative output paths absolute and quotes for the shell.
func TestManualCommand(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	got := manualCommand(externals[0], []string{"-layouts", "lru-redis", "-json", "out.json", "--csv=-", "-html=/tmp/r.html",
		"-svg", "a b.svg", "-keys", "10"})
	want := "cd bench/redis && go run . -layouts lru-redis -json " + filepath.Join(wd, "out.json") + " --csv=- -html=/tmp/r.html -svg '" +
		filepath.Join(wd, "a b.svg") + "' -keys 10"
	if got != want {
		t.Errorf("manualCommand =\n%s\nwant\n%s", got, want)
	}
}

// TestRegisterPanics: an unknown tier name, a nil Builder and a second
// registration panic.
func TestRegisterPanics(t *testing.T) {
	withRegistered(t, &fakeBuilder{})
	// In this order: "nil" removes the registration "twice" relies on.
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"unknown", func() { Register("cassandra", &fakeBuilder{}) }},
		{"twice", func() { Register("redis", &fakeBuilder{}) }},
		{"nil", func() {
			registryMu.Lock()
			delete(registry, "redis")
			registryMu.Unlock()
			Register("redis", nil)
		}},
	} {
		name, fn := tc.name, tc.fn
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}

// TestRedisBinary: the command finds the redis-server that the bench/redis
// module's redistest.StartProcess will start.
func TestRedisBinary(t *testing.T) {
	check := func() {
		t.Helper()
		got, gotErr := redisBinary.Path()
		want, wantErr := redistest.Binary()
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("REDIS_BIN=%q: %q, %v; redistest finds %q, %v", os.Getenv("REDIS_BIN"), got, gotErr, want, wantErr)
		}
	}
	check()
	bin := filepath.Join(t.TempDir(), "redis-server")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDIS_BIN", bin)
	check()
	t.Setenv("REDIS_BIN", bin+"-missing")
	check()
	t.Setenv("REDIS_BIN", "")
	t.Setenv("PATH", t.TempDir())
	check()
}
