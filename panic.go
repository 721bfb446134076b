package tiercache

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic (or a runtime.Goexit) recovered in a goroutine that
// a tiercache component started: the promotion worker of a Layered, a
// write-back worker, a call that tier.Timeout gave up on, a disk sweep. The
// component reports it through its error hook and keeps running. It wraps
// ErrPanic: match with errors.Is(err, ErrPanic), or errors.As for the
// fields.
type PanicError struct {
	// Where names the component, the tier and the operation, e.g.
	// "layered tier 1 (disk) promote".
	Where string
	// Value is the value passed to panic; for runtime.Goexit it is the
	// string "runtime.Goexit".
	Value any
	// Stack is the stack of the goroutine where the panic was recovered
	// (runtime/debug.Stack), for logs.
	Stack []byte
}

// NewPanicError returns a PanicError for the value v recovered in where,
// with the current goroutine's stack. Call it from the deferred function
// that recovered v. It allocates the stack trace (a few KiB): panics are
// rare.
func NewPanicError(where string, v any) *PanicError {
	return &PanicError{Where: where, Value: v, Stack: debug.Stack()}
}

// Error returns "tiercache: recovered panic in <where>: <value>".
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v in %s: %v", ErrPanic, e.Where, e.Value)
}

// Unwrap returns ErrPanic.
func (e *PanicError) Unwrap() error { return ErrPanic }
