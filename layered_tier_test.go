package tiercache_test

import (
	"testing"

	"github.com/tiercache/tiercache"
)

func TestLayeredTier(t *testing.T) {
	a, b := newTierFake(0, nil), newTierFake(1, nil)
	l := tiercache.NewLayered([]tiercache.Manager{a, nil, b})
	defer l.Close()
	if l.Tier(0) != tiercache.Manager(a) || l.Tier(1) != tiercache.Manager(b) || l.Tier(2) != nil || l.Tier(-1) != nil {
		t.Fatalf("tiers %v %v %v", l.Tier(0), l.Tier(1), l.Tier(2))
	}
}
