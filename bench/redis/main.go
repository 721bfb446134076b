// Command redis is the bench command (go run ./bench) with the redis
// layouts: lru > redis (lru-redis) and lru > zstd(redis) (lru-zredis).
//
//	cd bench/redis && go run . [flags]
//
// It is a module of its own, so that the main module does not depend on a
// Redis client; go run ./bench hands a run that asks for a redis layout
// over to it. It registers the redis lower tier (tier.go) and runs the same
// command, with the same flags and reports, and runs every layout by
// default. The redis layouts use a redis-server the command starts on a
// free loopback port (from PATH or $REDIS_BIN) and restarts empty before
// each layout, or the server given with -redis host:port, under a key
// prefix of their own.
package main

import (
	"os"

	"github.com/tiercache/tiercache/bench/internal/benchcmd"
)

func main() {
	os.Exit(benchcmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
