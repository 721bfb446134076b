package tiercachetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// brokenManager is a mapManager with one deliberate breach of the contract.
type brokenManager struct {
	*mapManager
	breach string
}

var errBroken = errors.New("broken: not found")

func (b *brokenManager) key(k string) string {
	switch b.breach {
	case "truncates-keys":
		return k[:min(len(k), 32)]
	case "folds-case":
		return strings.ToLower(k)
	}
	return k
}

func (b *brokenManager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	if b.breach == "serves-expired" {
		b.mu.Lock()
		defer b.mu.Unlock()
		e, ok := b.m[key]
		if !ok {
			return nil, nil, nil
		}
		return e.resp, e.pol, nil // ignores the expiry
	}
	resp, pol, err := b.mapManager.Get(ctx, b.key(key))
	if resp == nil && err == nil && b.breach == "error-on-miss" {
		return nil, nil, errBroken
	}
	return resp, pol, err
}

func (b *brokenManager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if b.breach == "keeps-older-value" && tiercache.CheckPut(key, resp, pol) == nil && pol.KeepFor(time.Now()) <= 0 {
		return resp, nil // neither stores nor removes the older value
	}
	return b.mapManager.Put(ctx, b.key(key), resp, pol)
}

func (b *brokenManager) Delete(ctx context.Context, key string) error {
	return b.mapManager.Delete(ctx, b.key(key))
}

// brokenEnv names the breach TestBrokenManager runs the suite against.
const brokenEnv = "TIERCACHETEST_BREACH"

// TestBrokenManager runs the suite on a brokenManager when the test binary
// is run again by TestSuiteFailsBrokenManagers; otherwise it is skipped.
func TestBrokenManager(t *testing.T) {
	breach := os.Getenv(brokenEnv)
	if breach == "" {
		t.Skip("run by TestSuiteFailsBrokenManagers")
	}
	tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
		return &brokenManager{mapManager: newMapManager(), breach: breach}
	})
}

// TestSuiteFailsBrokenManagers proves that the suite fails a Manager that
// breaks the contract: it runs this test binary again on each broken
// Manager and checks that it exits with status 1 and that the subtest of
// the breached rule failed. (TestManager takes a *testing.T, so a failing
// run has to happen in a process of its own.)
func TestSuiteFailsBrokenManagers(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in the child process")
	}
	for _, tc := range []struct {
		breach string
		fails  []string // subtests that must fail
	}{
		{"error-on-miss", []string{"MissIsNil"}},
		{"serves-expired", []string{"Retention"}},
		{"keeps-older-value", []string{"ExpiredPutRemoves"}},
		{"truncates-keys", []string{"NearKeys"}},
		{"folds-case", []string{"NearKeys"}},
	} {
		t.Run(tc.breach, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenManager$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tc.breach)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("the suite on a Manager that %s: %v, want exit status 1; output:\n%s", tc.breach, err, out)
			}
			failed := regexp.MustCompile(`--- FAIL: TestBrokenManager/(\w+)`).FindAllStringSubmatch(string(out), -1)
			var names []string
			for _, m := range failed {
				names = append(names, m[1])
			}
			for _, want := range tc.fails {
				if !slices.Contains(names, want) {
					t.Errorf("subtest %s did not fail (failed: %v); output:\n%s", want, names, out)
				}
			}
			t.Logf("%s: failed %v", tc.breach, names)
		})
	}
}
