package otel_test

import (
	"context"
	"fmt"
	"log"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/lru"
	tcotel "github.com/tiercache/tiercache/contrib/otel"
)

// Register a stack's instruments on a MeterProvider (in production the
// application's, otel.GetMeterProvider(), with its exporter).
func ExampleRegister() {
	front, err := lru.New(lru.Config{MaxEntries: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	defer front.Close()
	stack := tiercache.NewLayered([]tiercache.Manager{front}, tiercache.WithTierNames("lru"))
	defer stack.Close()

	reader := sdkmetric.NewManualReader() // for the example; an exporter's reader in production
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg, err := tcotel.Register(mp, stack)
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()

	ctx := context.Background()
	resp := &tiercache.Response{Status: 200, Body: []byte("hello")}
	if _, err := stack.Put(ctx, "k", resp, tiercache.NewTTLPolicy(time.Minute)); err != nil {
		log.Fatal(err)
	}
	_, _, _ = stack.Get(ctx, "k")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "tiercache.tier.hits" {
			p := m.Data.(metricdata.Sum[int64]).DataPoints[0]
			name, _ := p.Attributes.Value("name")
			fmt.Println(m.Name, name.AsString(), p.Value)
		}
	}
	// Output: tiercache.tier.hits lru 1
}
