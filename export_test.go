package tiercache

import "time"

// WithLogEvery sets the logging interval of a Layered, for tests that check
// the rate limit without waiting for it.
func WithLogEvery(d time.Duration) LayeredOption {
	return func(c *layeredConfig) { c.logEvery = d }
}
