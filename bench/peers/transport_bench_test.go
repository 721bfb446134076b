package main

import "testing"

// BenchmarkTransportHit compares a fresh hit through tiercache's
// httpcache.Transport (lru front) with gregjones/httpcache.Transport
// (MemoryCache) against the same local origin.
func BenchmarkTransportHit(b *testing.B) {
	for _, p := range transportPeers {
		b.Run(p.name, func(b *testing.B) { benchTransportHit(b, p) })
	}
}
