package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	gocache "github.com/go-redis/cache/v9"
	goredis "github.com/redis/go-redis/v9"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	"github.com/tiercache/tiercache/backends/redis"
	"github.com/tiercache/tiercache/bench/workload"
	"github.com/tiercache/tiercache/internal/redistest"
)

// The -redis comparison: two-tier stacks, an in-process front over one
// Redis, replaying the same trace on the same server (flushed before each
// stack when the command started it; under a prefix of its own per stack
// on a server given by address, whose keys then expire with the
// workload's TTL). The fronts get the same budget as the front-tier
// table: tiercache's lru in bytes, go-redis/cache's TinyLFU in entries
// (bytes / mean entry size), its only bound.
//
// go-redis/cache stores bytes in both tiers and decodes on every hit; it is
// given the codec.Binary encoding as its value and an Unmarshal that
// aliases the local copy instead of cloning it, its cheapest setup.

// redisStack is one stack of the comparison.
type redisStack struct {
	name, front string
	open        func(c *goredis.Client, prefix string, b budget) (*openStack, error)
}

// openStack is an opened stack: its Manager, a count of the Gets its front
// did not answer (they reached Redis), and its close function.
type openStack struct {
	m      tiercache.Manager
	missed func() uint64
	close  func() error
}

// RedisRow is a row of the -redis comparison.
type RedisRow struct {
	Row
	FrontHitRatio float64 `json:"front_hit_ratio"` // Gets answered by the in-process front
}

var redisStacks = []redisStack{
	{"tiercache lru > redis", "lru, bytes", openTiercacheRedis(false)},
	{"tiercache lru > redis + bus", "lru, bytes", openTiercacheRedis(true)},
	{"go-redis/cache", "TinyLFU, entries", openGoRedisCache},
}

// runRedis runs the -redis comparison; addr is "start" or a server address.
func runRedis(addr string, b budget, w *workload.Workload, conc int, jsonPath string, stdout, stderr io.Writer) int {
	owned := addr == "start"
	if owned {
		srv, err := redistest.StartProcess(redistest.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "peers: -redis start: %v\n", err)
			return 1
		}
		defer srv.Close()
		addr = srv.Addr
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1})
	defer client.Close()
	if err := client.Ping(context.Background()).Err(); err != nil {
		fmt.Fprintf(stderr, "peers: redis at %s: %v\n", addr, err)
		return 1
	}
	fmt.Fprintf(stdout, "two tiers over one Redis (%s): front budget %d MiB (%d entries)\n\n", addr, b.bytes>>20, b.entries)
	prefix := "tiercache-peers:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	var rows []RedisRow
	for i, s := range redisStacks {
		if owned {
			_ = client.FlushAll(context.Background()).Err()
		}
		rows = append(rows, measureRedis(s, client, prefix+strconv.Itoa(i)+":", b, w, conc))
	}
	printRedisRows(stdout, rows)
	if jsonPath != "" {
		data, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "peers: %v\n", err)
			return 1
		}
	}
	return 0
}

// measureRedis replays the warm-up and the trace on one stack.
func measureRedis(s redisStack, c *goredis.Client, prefix string, b budget, w *workload.Workload, conc int) RedisRow {
	row := RedisRow{Row: Row{Peer: s.name, Bound: s.front}}
	st, err := s.open(c, prefix, b)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer st.close()
	ctx := context.Background()
	opt := workload.ReplayOptions{Workers: conc}
	workload.Replay(ctx, st.m, w, w.Warmup, opt)
	missed := st.missed()
	res := workload.Replay(ctx, st.m, w, w.Trace, opt)
	missed = st.missed() - missed
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	row.OpsPerSec, row.HitRatio, row.Errors = res.OpsPerSec(), res.HitRatio(), res.Errors
	row.P50Us, row.P99Us, row.P999Us = us(res.Latency.Quantile(0.5)), us(res.Latency.Quantile(0.99)), us(res.Latency.Quantile(0.999))
	if res.Gets > 0 {
		row.FrontHitRatio = 1 - float64(missed)/float64(res.Gets)
	}
	if res.Err != nil {
		row.Error = res.Err.Error()
	}
	return row
}

func printRedisRows(stdout io.Writer, rows []RedisRow) {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stack\tfront\tops/s\tp50\tp99\tp99.9\tfront hit\thit\terrors\t")
	for _, r := range rows {
		if r.Error != "" && r.OpsPerSec == 0 {
			fmt.Fprintf(tw, "%s\t%s\tfailed: %s\t\t\t\t\t\t\t\n", r.Peer, r.Bound, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1fµs\t%.1fµs\t%.1fµs\t%.1f%%\t%.1f%%\t%d\t\n", r.Peer, r.Bound, r.OpsPerSec,
			r.P50Us, r.P99Us, r.P999Us, 100*r.FrontHitRatio, 100*r.HitRatio, r.Errors)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" && r.OpsPerSec > 0 {
			fmt.Fprintf(stdout, "%s: %d errors, first: %s\n", r.Peer, r.Errors, r.Error)
		}
	}
}

// openTiercacheRedis opens `lru > redis`, with an invalidation bus when bus
// is set (one PUBLISH per Put and Delete; nobody else listens here).
func openTiercacheRedis(bus bool) func(*goredis.Client, string, budget) (*openStack, error) {
	return func(c *goredis.Client, prefix string, b budget) (*openStack, error) {
		front, err := lru.New(lru.Config{MaxEntries: 1 << 30, MaxBytes: b.bytes})
		if err != nil {
			return nil, err
		}
		shared, err := redis.New(redis.Config{Client: c, Prefix: prefix})
		if err != nil {
			return nil, errors.Join(err, front.Close())
		}
		var opts []tiercache.LayeredOption
		var rbus *redis.Bus
		if bus {
			if rbus, err = redis.NewBus(redis.BusConfig{Client: c, Channel: prefix + "bus"}); err != nil {
				return nil, errors.Join(err, front.Close())
			}
			opts = append(opts, tiercache.WithBus(rbus))
		}
		l := tiercache.NewLayered([]tiercache.Manager{front, shared}, opts...)
		return &openStack{m: l, missed: func() uint64 { return l.Stats().Tiers[0].Misses }, close: func() error {
			err := l.Close()
			if rbus != nil {
				err = errors.Join(err, rbus.Close())
			}
			return errors.Join(err, shared.Close(), front.Close())
		}}, nil
	}
}

// openGoRedisCache opens go-redis/cache with its TinyLFU local cache.
func openGoRedisCache(c *goredis.Client, prefix string, b budget) (*openStack, error) {
	gc := gocache.New(&gocache.Options{
		Redis:        c,
		LocalCache:   gocache.NewTinyLFU(b.entries, time.Hour),
		StatsEnabled: true, // counts the Gets that reach Redis
		Unmarshal: func(data []byte, v any) error { // alias, do not clone: decode reads only
			*(v.(*[]byte)) = data
			return nil
		},
	})
	missed := func() uint64 { st := gc.Stats(); return st.Hits + st.Misses }
	return &openStack{m: &goRedisCache{c: gc, prefix: prefix}, missed: missed, close: noClose}, nil
}

// goRedisCache adapts go-redis/cache, storing the codec.Binary encoding.
type goRedisCache struct {
	c      *gocache.Cache
	prefix string
}

func (g *goRedisCache) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	var data []byte
	switch err := g.c.Get(ctx, g.prefix+key, &data); {
	case errors.Is(err, gocache.ErrCacheMiss):
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return binary.Decode(data)
}

func (g *goRedisCache) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	data, err := binary.Encode(resp, pol)
	if err != nil {
		return nil, err
	}
	return resp, g.c.Set(&gocache.Item{Ctx: ctx, Key: g.prefix + key, Value: data, TTL: pol.KeepFor(time.Now())})
}

func (g *goRedisCache) Delete(ctx context.Context, key string) error {
	return g.c.Delete(ctx, g.prefix+key)
}
