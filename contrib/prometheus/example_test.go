package prometheus_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	tcprom "github.com/tiercache/tiercache/contrib/prometheus"
)

// Register a stack's Collector; serve the registry with
// promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) on /metrics.
func ExampleNewCollector() {
	front, err := lru.New(lru.Config{MaxEntries: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	defer front.Close()
	stack := tiercache.NewLayered([]tiercache.Manager{front}, tiercache.WithTierNames("lru"))
	defer stack.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(tcprom.NewCollector(stack))
	// http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	ctx := context.Background()
	resp := &tiercache.Response{Status: 200, Body: []byte("hello")}
	if _, err := stack.Put(ctx, "k", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		log.Fatal(err)
	}
	_, _, _ = stack.Get(ctx, "k")

	families, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "tiercache_tier_hits_total" {
			if _, err := expfmt.MetricFamilyToText(os.Stdout, f); err != nil {
				log.Fatal(err)
			}
		}
	}
	// Output:
	// # HELP tiercache_tier_hits_total Get lookups that found the key in the tier.
	// # TYPE tiercache_tier_hits_total counter
	// tiercache_tier_hits_total{name="lru",tier="0"} 1
}
