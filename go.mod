module github.com/tiercache/tiercache

go 1.26

require github.com/pquerna/cachecontrol v0.2.0
