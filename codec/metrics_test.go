package codec

import (
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// meteredStore is a memStore that describes itself, as a user's Store may.
type meteredStore struct{ *memStore }

func (s meteredStore) Metrics(w tiercache.MetricWriter) {
	w.Gauge("mem.entries", "Entries held.", int64(len(s.m)))
}

// TestManagerMetrics reads a Manager after a corrupt entry: its own values,
// then its Store's.
func TestManagerMetrics(t *testing.T) {
	s := meteredStore{newMemStore()}
	m := NewManager(s)
	tiercachetest.MustPut(t, m, "k", tiercachetest.Response("k", 100), tiercache.NewTTLPolicy(time.Hour))
	tiercachetest.MustPut(t, m, "j", tiercachetest.Response("j", 100), tiercache.NewTTLPolicy(time.Hour))
	s.m["k"] = s.m["k"][:3]
	tiercachetest.MustGet(t, m, "k", nil)
	var got []string
	tiercache.ReadMetrics(m, func(mt tiercache.Metric) {
		got = append(got, mt.Name)
		if v := int64(mt.Counter) + mt.Gauge; (mt.Name == "codec.corrupt" || mt.Name == "mem.entries") != (v == 1) {
			t.Errorf("%s = %d", mt.Name, v)
		}
	})
	if len(got) != 3 || got[0] != "codec.corrupt" || got[1] != "codec.expired" || got[2] != "mem.entries" {
		t.Fatalf("read %q", got)
	}
}
