// Command bench measures tiercache tier layouts on one replayed workload.
//
//	go run ./bench [flags]
//
// It generates a trace once from a seed (Zipf key popularity, a fixed
// HTML/JSON-like body per key, a Get/Put/Delete mix in which a Get miss is
// followed by a Put, as a cache-aside client does) and replays it on each
// layout: an LRU alone, an LRU over disk, an LRU over Compress(disk) and,
// when a memcached is given with -memcached or found on PATH, an LRU over
// memcached and over Compress(memcached). The redis layouts (-layouts
// lru-redis,lru-zredis) live in module bench/redis, so that the main module
// does not depend on a Redis client: asked for here, the run is handed over
// to it. It prints one row per layout (throughput, latency percentiles, hit
// ratio per tier and overall, bytes held per tier, bytes moved to the lower
// tiers) and checks the LRU's hit ratio against the Che approximation.
// -json, -csv, -html and -svg write the same results to files. Run with -h
// for the flags; the code is in package bench/internal/benchcmd.
package main

import (
	"os"

	"github.com/tiercache/tiercache/bench/internal/benchcmd"
)

func main() {
	os.Exit(benchcmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
