package tiercache

import "strconv"

var _ MetricSource = (*Layered)(nil)

// Metrics writes the Layered's counters (layered.*), each tier's (tier.*,
// under the labels tier, the index, and name, from WithTierNames) followed
// by the values of the tier's own components under the same labels, and
// with WithBus the bus link's (layered.bus.*) and the Bus's own when it is
// a MetricSource. It reads Stats and BusStats once; a scrape-time call.
//
// A Layered that is itself a tier of another Layered labels its tiers with
// their path from the outer stack: tier "1.0" and name "outer/inner" for
// the front tier "inner" of a stack that is tier 1, "outer", of another.
func (l *Layered) Metrics(w MetricWriter) {
	st := l.Stats()
	w.Counter("layered.coalesced", "Gets that missed the front tier and shared another Get's read of the lower tiers.", st.Coalesced)
	w.Counter("layered.panics", "Panics recovered by the promotion worker (in a tier or in the error hook).", st.Panics)
	outerTier, nested := w.Label("tier")
	outerName, _ := w.Label("name")
	for i := range st.Tiers {
		idx, name := strconv.Itoa(i), st.Tiers[i].Name
		if nested {
			idx = outerTier + "." + idx
			name = joinNames(outerName, name)
		}
		tw := w.With(Label{"tier", idx}, Label{"name", name})
		tierMetrics(tw, &st.Tiers[i])
		tw.Read(l.tiers[i])
	}
	if l.bus != nil {
		busMetrics(w, l.BusStats())
		w.Read(l.bus.bus)
	}
}

func tierMetrics(w MetricWriter, t *TierStats) {
	w.Counter("tier.hits", "Get lookups that found the key in the tier.", t.Hits)
	w.Counter("tier.misses", "Get lookups that did not find the key in the tier.", t.Misses)
	w.Counter("tier.errors", "Failed calls of the tier (get, put, delete, promote).", t.Errors)
	w.Counter("tier.promotions", "Values written into the tier by promotion from a lower tier.", t.Promotions)
	w.Counter("tier.promotions_dropped", "Values read from the tier whose asynchronous promotion was dropped (queue full).", t.PromotionsDropped)
	w.Counter("tier.promotions_skipped", "Values read from the tier not promoted because a Put or Delete of the key ran meanwhile.", t.PromotionsSkipped)
	w.Latency("tier.request_duration", "Latency of Get lookups in the tier, sampled: 1 in 1024 in the front tier, 1 in 64 below.", t.Latency)
}

func busMetrics(w MetricWriter, b BusStats) {
	w.Counter("layered.bus.publishes", "Puts and Deletes announced on the invalidation bus.", b.Publishes)
	w.Counter("layered.bus.publish_errors", "Announcements whose Publish failed.", b.PublishErrors)
	w.Counter("layered.bus.invalidations", "Keys dropped from the upper tiers on another process's message.", b.Invalidations)
	w.Counter("layered.bus.echoes", "The Layered's own messages, skipped.", b.Echoes)
	w.Counter("layered.bus.ignored", "Messages of other kinds, skipped.", b.Ignored)
	w.Counter("layered.bus.losses", "Lost bus subscriptions.", b.Losses)
	w.Counter("layered.bus.recoveries", "Bus subscriptions re-established after a loss.", b.Recoveries)
	w.Gauge("layered.bus.up", "1 while the bus subscription is up, else 0.", b.Up)
}

// joinNames returns outer/inner, or the one that is not empty.
func joinNames(outer, inner string) string {
	switch {
	case outer == "":
		return inner
	case inner == "":
		return outer
	}
	return outer + "/" + inner
}
