// Package nilarg rejects nil arguments of constructors when they are called,
// so that a typed nil (a nil pointer inside a non-nil interface, which is
// what a failed backend constructor returns) fails where the mistake is made
// instead of as a nil dereference on the first call, as net/http does for a
// nil handler. It uses reflect and is meant for construction time only.
package nilarg

import (
	"fmt"
	"reflect"
)

// IsTypedNil reports whether v is a non-nil interface value holding a nil
// pointer, map, channel or function. A nil slice is not reported: methods
// on a nil slice work.
func IsTypedNil(v any) bool {
	if v == nil {
		return false
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// Check panics when v is nil or a typed nil (see IsTypedNil). fn names the
// constructor with its package ("tiercache: NewLayered") and name the
// argument ("tier 1", "m"); the message reads
// "tiercache: NewLayered: tier 1 is a nil *disk.Manager", or
// "tier: Timeout: m is nil" for a plain nil.
func Check(fn, name string, v any) {
	if v == nil {
		panic(fn + ": " + name + " is nil")
	}
	if IsTypedNil(v) {
		panic(fmt.Sprintf("%s: %s is a nil %T", fn, name, v))
	}
}
