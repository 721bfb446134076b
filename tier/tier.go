// Package tier holds per-tier decorators: each wraps a tiercache.Manager and
// returns a Manager, so guards compose as nested calls around one tier of a
// tiercache.Layered stack.
//
//   - [Timeout] bounds every call with a deadline and returns on time even
//     when the wrapped Manager ignores its context.
//   - [Breaker] stops calling a failing tier for a cool-down and fails fast
//     with an error wrapping [ErrOpen]; Layered treats that as a miss.
//   - [ReadOnly] turns Put and Delete into no-ops for a warm shared tier that
//     this process must not write.
//   - [Prefix] namespaces keys.
//   - [Admit] filters what a Put may store, e.g. [MaxBodySize] for a small
//     in-process front.
//   - [WriteBack] queues Puts and Deletes and writes them in the background.
//
// A remote tier is typically guarded as
//
//	tier.Breaker(tier.Timeout(remote, 50*time.Millisecond))
//
// with the Breaker outside, so that deadlines count as failures and an open
// breaker starts no call at all.
//
// Every constructor panics when the Manager it wraps is nil or a typed nil
// (a nil pointer in a non-nil interface, what a failed backend constructor
// returns), with a message naming it, e.g. "tier: Timeout: m is a nil
// *disk.Manager": the mistake fails where it is made, not on the first call.
//
// Every decorator is safe for concurrent use when the wrapped Manager is.
// Options are functional (WithX) and cannot fail: out-of-range values are
// clamped to the range each option documents.
package tier
