package memcached

import (
	"math"
	"time"
)

// maxRelativeExpiry is memcached's REALTIME_MAXDELTA: an expiration of up
// to 30 days is relative seconds; a larger one is an absolute Unix time.
const maxRelativeExpiry = 30 * 24 * 60 * 60

// expiration converts a retention ttl into memcached's expiration field:
// whole seconds rounded up and at least 1 (0 would mean "never expire"),
// relative up to 30 days and the absolute Unix time now+ttl beyond, capped
// at the largest int32 (January 2038). Absolute times are read by the
// server's clock, so clock skew between client and server shifts them.
// ttl must be > 0.
func expiration(ttl time.Duration, now time.Time) int32 {
	secs := int64(ttl / time.Second)
	if ttl%time.Second != 0 {
		secs++
	}
	secs = max(secs, 1)
	if secs <= maxRelativeExpiry {
		return int32(secs)
	}
	return int32(min(now.Unix()+secs, math.MaxInt32))
}
