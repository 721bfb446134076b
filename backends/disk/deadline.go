package disk

import "time"

// Deadlines are Unix nanoseconds in int64, in memory and in the entry files,
// and they are compared by their difference from now, modulo 2^64, like
// TCP sequence numbers (RFC 1982): an entry is expired when deadline-now,
// computed with wrap-around, is <= 0. So the comparison is right for any
// clock, also one before 1970 or before 1678 (a fake clock at the zero
// time.Time, whose Unix nanoseconds do not fit in an int64), as long as a
// deadline is less than 292 years from now, which a time.Duration ttl
// guarantees. A plain comparison would keep entries written by such a clock
// forever (their now+ttl saturated, or overflowed into the far future).

// unixNano returns t in Unix nanoseconds modulo 2^64: exact between the
// years 1678 and 2262, and outside them still consistent, in that
// unixNano(t.Add(d)) == unixNano(t) + int64(d) with wrap-around, which is
// all that deadlines need. (time.Time.UnixNano leaves such times undefined;
// Go defines signed overflow as wrapping, so this is well defined.)
func unixNano(t time.Time) int64 {
	return t.Unix()*int64(time.Second) + int64(t.Nanosecond())
}

// deadlineAfter returns now+ttl with wrap-around (ttl > 0).
func deadlineAfter(now int64, ttl time.Duration) int64 {
	return int64(uint64(now) + uint64(ttl))
}

// expired reports whether deadline has passed at now (see above).
func expired(deadline, now int64) bool {
	return int64(uint64(deadline)-uint64(now)) <= 0
}
