//go:build !race

package codec

// raceEnabled reports a -race build, where the runtime may allocate more.
const raceEnabled = false
