package tier

// WithErrorHook sets a function called with the key and the error of each
// failure that no caller is left to receive: a background write of
// WriteBack that fails, and a panic (or runtime.Goexit) of the wrapped
// Manager in a call that Timeout gave up on or in a WriteBack worker, as a
// *tiercache.PanicError wrapping tiercache.ErrPanic. It is an option of
// both WriteBack and Timeout.
//
// The hook runs on a background goroutine, outside any lock, and must be
// safe for concurrent use; a slow hook delays the WriteBack queue. It must
// not call Close of a WriteBack (which waits for the worker running the
// hook) nor wait in its Flush (the failed key stays pending until the hook
// returns). A panic of the hook is recovered and counted, never reported
// through the hook. The default (and nil) is none: failures are only
// counted in the Stats.
func WithErrorHook(fn func(key string, err error)) ErrorHookOption {
	return ErrorHookOption{fn: fn}
}

// ErrorHookOption is the option WithErrorHook returns. It is both a
// WriteBackOption and a TimeoutOption.
type ErrorHookOption struct{ fn func(key string, err error) }

func (o ErrorHookOption) applyWriteBack(c *writeBackConfig) { c.onError = o.fn }
func (o ErrorHookOption) applyTimeout(c *timeoutConfig)     { c.onError = o.fn }

// callHook calls hook, if any, with key and err and recovers a panic of it
// (or a runtime.Goexit, which it cannot stop: the caller must survive its
// goroutine ending). It reports whether the hook panicked.
func callHook(hook func(key string, err error), key string, err error) (panicked bool) {
	if hook == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	hook(key, err)
	return false
}
