package redis

import (
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/redistest"
)

// TestMetrics reads a Layered over a redis Manager with a redis Bus after a
// Put that is announced and a miss: the Manager's values and the Bus's
// appear under the tier's labels and beside the Layered's bus link.
func TestMetrics(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv.Addr, true)
	m := newManager(t, client, nil)
	bus := newBus(t, BusConfig{Client: client})
	l := tiercache.NewLayered([]tiercache.Manager{m}, tiercache.WithTierNames("redis"), tiercache.WithBus(bus))
	t.Cleanup(func() { _ = l.Close() })
	waitFor(t, "subscription up", func() bool { return l.BusStats().Up == 1 })
	if _, err := l.Put(bg, "k", &tiercache.Response{Status: 200}, ttl(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if resp, _, err := l.Get(bg, "absent"); resp != nil || err != nil {
		t.Fatalf("Get = %v, %v", resp, err)
	}
	waitFor(t, "echo", func() bool { return l.BusStats().Echoes == 1 })
	got := map[string]int64{}
	tiercache.ReadMetrics(l, func(mt tiercache.Metric) {
		k := mt.Name
		for _, lb := range mt.Labels {
			k += " " + lb.Name + "=" + lb.Value
		}
		got[k] = int64(mt.Counter) + mt.Gauge
	})
	for k, want := range map[string]int64{
		"tier.misses tier=0 name=redis":   1,
		"redis.errors tier=0 name=redis":  0,
		"redis.corrupt tier=0 name=redis": 0,
		"redis.expired tier=0 name=redis": 0,
		"layered.bus.publishes":           1,
		"redis.bus.publishes":             1,
		"redis.bus.received":              1,
		"redis.bus.subscriptions":         1,
		"redis.bus.up":                    1,
		"redis.bus.publish_errors":        0,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", k, v, ok, want)
		}
	}
}
