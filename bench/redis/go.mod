module github.com/tiercache/tiercache/bench/redis

go 1.25.0

replace github.com/tiercache/tiercache => ../..

replace github.com/tiercache/tiercache/backends/redis => ../../backends/redis

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/tiercache/tiercache v0.0.0-00010101000000-000000000000
	github.com/tiercache/tiercache/backends/redis v0.0.0-00010101000000-000000000000
)

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/pquerna/cachecontrol v0.2.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)
