package tier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
)

// TestErrorsQuoteKeysShortly (issue 13, item 8): errors that name a key
// truncate it, so a rejected 1 MiB key cannot make a megabyte-long error.
func TestErrorsQuoteKeysShortly(t *testing.T) {
	huge := strings.Repeat("k", 1<<20)
	ctx := context.Background()

	slow := newFake()
	slow.block(t, false, "get")
	timeout := tier.Timeout(slow, time.Millisecond)

	failing := newFake()
	failing.setErr(errTier)
	breaker := tier.Breaker(failing, tier.WithThreshold(1))
	_ = breaker.Delete(ctx, "trip")

	w := tier.WriteBack(newFake())
	_ = w.Close()

	rejecting := newFake()
	rejecting.setErr(errTier, "delete")
	admit := tier.Admit(rejecting, func(string, *tiercache.Response, *tiercache.Policy) bool { return false })

	calls := map[string]func() error{
		"Timeout":        func() error { return call(ctx, timeout, "get", huge) },
		"Breaker open":   func() error { return call(ctx, breaker, "get", huge) },
		"WriteBack":      func() error { return call(ctx, w, "put", huge) },
		"Admit rejected": func() error { return call(ctx, admit, "put", huge) },
	}
	for name, fn := range calls {
		if err := fn(); err == nil || len(err.Error()) > 512 {
			t.Errorf("%s: error of %d bytes for a 1 MiB key, want a short one", name, len(fmt.Sprint(err)))
		}
	}
}
