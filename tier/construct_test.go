package tier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
)

// panicMessage runs fn and returns the message it panicked with, or "".
func panicMessage(fn func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	fn()
	return ""
}

// TestConstructorsRejectTypedNil: every constructor panics at once, naming
// the argument and its type, when given a nil or a typed-nil Manager.
func TestConstructorsRejectTypedNil(t *testing.T) {
	constructors := []struct {
		name string
		make func(m tiercache.Manager) any
	}{
		{"Admit", func(m tiercache.Manager) any { return tier.Admit(m, nil) }},
		{"Prefix", func(m tiercache.Manager) any { return tier.Prefix(m, "p/") }},
		{"ReadOnly", func(m tiercache.Manager) any { return tier.ReadOnly(m) }},
		{"Timeout", func(m tiercache.Manager) any { return tier.Timeout(m, time.Second) }},
		{"Breaker", func(m tiercache.Manager) any { return tier.Breaker(m) }},
		{"WriteBack", func(m tiercache.Manager) any {
			w := tier.WriteBack(m)
			w.Close()
			return w
		}},
	}
	var typed *fakeManager
	for _, c := range constructors {
		for _, tc := range []struct {
			arg  tiercache.Manager
			want string
		}{
			{typed, "tier: " + c.name + ": m is a nil *tier_test.fakeManager"},
			{nil, "tier: " + c.name + ": m is nil"},
			{newFake(), ""},
		} {
			if got := panicMessage(func() { c.make(tc.arg) }); got != tc.want {
				t.Errorf("%s(%#v): panic %q, want %q", c.name, tc.arg, got, tc.want)
			}
		}
	}
}
