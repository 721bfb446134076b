package tiercache_test

import (
	"fmt"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
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

// TestConstructorsRejectTypedNil: a typed nil (what a failed disk.New
// returns) fails at construction with a message naming the argument; a
// plain nil keeps its meaning where it has one.
func TestConstructorsRejectTypedNil(t *testing.T) {
	var failed *disk.Manager // disk.New's result on error
	front := newTierFake(0, nil)
	tests := []struct {
		name string
		fn   func()
		want string // "" when it must not panic
	}{
		{"NewLayered typed nil", func() { tiercache.NewLayered([]tiercache.Manager{front, failed}) },
			"tiercache: NewLayered: tier 1 is a nil *disk.Manager"},
		{"NewLayered typed nil after a plain nil", func() { tiercache.NewLayered([]tiercache.Manager{nil, front, failed}) },
			"tiercache: NewLayered: tier 2 is a nil *disk.Manager"},
		{"NewLayered plain nil is left out", func() { tiercache.NewLayered([]tiercache.Manager{nil, front}).Close() }, ""},
		{"Compress typed nil", func() { tiercache.Compress(failed) }, "tiercache: Compress: m is a nil *disk.Manager"},
		{"Compress plain nil", func() { tiercache.Compress(nil) }, "tiercache: Compress: m is nil"},
		{"Compress", func() { tiercache.Compress(front) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := panicMessage(tc.fn); got != tc.want {
				t.Fatalf("panic = %q, want %q", got, tc.want)
			}
		})
	}
}
