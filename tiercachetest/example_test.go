package tiercachetest_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// mapManager is a small Manager that keeps the contract: a map under a
// mutex whose entries expire at their policy's KeepFor.
type mapManager struct {
	mu sync.Mutex
	m  map[string]mapEntry
}

type mapEntry struct {
	resp    *tiercache.Response
	pol     *tiercache.Policy
	expires time.Time
}

func newMapManager() *mapManager { return &mapManager{m: map[string]mapEntry{}} }

func (m *mapManager) Get(_ context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	if !ok || !time.Now().Before(e.expires) {
		return nil, nil, nil // a miss is not an error
	}
	return e.resp, e.pol, nil
}

func (m *mapManager) Put(_ context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	if err := tiercache.CheckPut(key, resp, pol); err != nil {
		return nil, err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if keep := pol.KeepFor(now); keep > 0 {
		m.m[key] = mapEntry{resp, pol, now.Add(keep)}
	} else {
		delete(m.m, key) // no retention: no older value either
	}
	return resp, nil
}

func (m *mapManager) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

// A backend's tests run the suite with a function that returns a fresh,
// empty Manager. In a _test.go file this is a plain test:
//
//	func TestMapManager(t *testing.T) {
//		tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
//			return newMapManager()
//		})
//	}
//
// Here the same test runs through testing.RunTests, so that the example is
// checked when the package's tests run.
func ExampleTestManager() {
	ok := runTest(func(t *testing.T) {
		tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
			return newMapManager()
		})
	})
	fmt.Println("conforms:", ok)
	// Output: conforms: true
}

// runTest runs test through testing.RunTests under this example's name, so
// that a -run pattern that selected the example selects the test too. Its
// verbose output (go test -v) goes to stderr: only the example's own
// output is compared.
func runTest(test func(t *testing.T)) bool {
	stdout := os.Stdout
	os.Stdout = os.Stderr
	defer func() { os.Stdout = stdout }()
	return testing.RunTests(regexp.MatchString, []testing.InternalTest{{Name: "ExampleTestManager", F: test}})
}
