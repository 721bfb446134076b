package redis

// Stats is a snapshot of the counters of a Manager or Store. Counters only
// grow; reading them costs a few atomic loads and nothing is counted on a
// successful call beyond one atomic load.
type Stats struct {
	// Corrupt counts entries that failed to decode (damaged ones are
	// deleted); Expired entries found with no retention left. Both come
	// from the codec adapter: zero in Store.Stats.
	Corrupt, Expired uint64
	// Errors counts calls that failed because of the server (unreachable,
	// timed out, or an error reply); calls ended by the caller's context
	// are not counted. Timeouts counts those of them that got no answer
	// within Config.Timeout.
	Errors, Timeouts uint64
	// Losses counts changes from calls reaching the server to a call that
	// could not (unreachable or timed out); Recoveries the changes back.
	Losses, Recoveries uint64
	// Panics counts panics recovered in the goroutines of detached calls.
	Panics uint64
}
