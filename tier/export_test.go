package tier

// WithLogEvery sets a Breaker's logging interval, for tests that check the
// rate limit without waiting for it.
var WithLogEvery = withLogEvery
