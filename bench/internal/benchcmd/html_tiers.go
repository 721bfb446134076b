package benchcmd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The per-tier section of the HTML report: for each layout, a table of its
// tiers (lookups, hit ratio, bytes, lookup latency from the Layered's
// sampled histograms) and a histogram of each tier's lookup latency, after
// a chart comparing the tiers' latency across layouts.

// tierSection returns the section's HTML for rows.
func tierSection(rows []Row) string {
	var b strings.Builder
	b.WriteString("<h2>Per tier</h2>\n<p>Hit ratio: hits / lookups that reached the tier. Lookup latency: a tier's Get " +
		"as the Layered times it (one lookup in 1024 in the front tier, one in 64 below; a compressed tier's includes the " +
		"decompression), from <code>Layered.Stats</code> over the measured run. p50 and p99 are the upper bounds of " +
		"power-of-two buckets, so within a factor of two. A layout of one tier has no Layered: its operation latency " +
		"is in the table above.</p>\n")
	if chart := tierLatencyChart(rows, 760); chart != "" {
		b.WriteString(`<div class="charts">` + chart + "</div>\n")
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "<h3>%s</h3>\n", esc(r.Name))
		b.WriteString("<table><tr><th>tier</th><th>lookups</th><th>hits</th><th>hit ratio</th><th>held</th><th>written</th>" +
			"<th>read</th><th>promotions</th><th>errors</th><th>sampled</th><th>mean</th><th>p50</th><th>p99</th></tr>\n")
		for _, t := range r.Tiers {
			lat := `<td colspan="4">&ndash;</td>`
			if l := t.Latency; l != nil {
				lat = fmt.Sprintf("<td>%d</td><td>%s</td><td>&le; %s</td><td>&le; %s</td>", l.Samples, fmtUs(l.MeanUs), fmtUs(l.P50Us), fmtUs(l.P99Us))
			}
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td>%s</tr>\n",
				esc(t.Name), t.Gets, t.Hits, pct(t.HitRatio), formatBytes(t.BytesHeld), formatBytes(t.BytesWritten),
				formatBytes(t.BytesRead), t.Promotions, t.Errors, lat)
		}
		b.WriteString("</table>\n")
		if h := histogramChart("Lookup latency per tier: "+r.Name, 560, 240, r.Tiers); h != "" {
			b.WriteString(h + "\n")
		}
	}
	return b.String()
}

// tierLatencyChart compares the tiers' mean, p50 and p99 lookup latency
// across layouts (log scale); "" when no tier was sampled.
func tierLatencyChart(rows []Row, width int) string {
	var labels []string
	ss := []series{{name: "mean"}, {name: "p50 (≤)"}, {name: "p99 (≤)"}}
	maxV := 0.0
	for _, r := range rows {
		for _, t := range r.Tiers {
			if l := t.Latency; l != nil {
				labels = append(labels, r.Name+": "+t.Name)
				ss[0].values = append(ss[0].values, l.MeanUs)
				ss[1].values = append(ss[1].values, l.P50Us)
				ss[2].values = append(ss[2].values, l.P99Us)
				maxV = max(maxV, l.MeanUs, l.P50Us, l.P99Us)
			}
		}
	}
	if len(labels) == 0 {
		return ""
	}
	return barChart("Tier lookup latency (µs, log scale)", width, labels, ss, maxV, true, fmtUs)
}

// histogramChart draws the lookup latency histogram of each tier that has
// one: one bar per power-of-two bucket and tier, its height the share of
// the tier's samples; "" when no tier has one.
func histogramChart(title string, width, height int, tiers []TierRow) string {
	lo, hi := math.MaxInt, -1
	for _, t := range tiers {
		if t.Latency == nil {
			continue
		}
		for b, c := range t.Latency.Buckets {
			if c > 0 {
				lo, hi = min(lo, b), max(hi, b)
			}
		}
	}
	if hi < 0 {
		return ""
	}
	left, right, top, bottom := 50, 20, 58, 44
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	nb := hi - lo + 1
	slot := pw / float64(nb)
	maxShare := 0.0
	for _, t := range tiers {
		if l := t.Latency; l != nil {
			for _, c := range l.Buckets {
				maxShare = math.Max(maxShare, float64(c)/float64(l.Samples))
			}
		}
	}
	yOf := func(share float64) float64 { return float64(top) + ph*(1-share/maxShare) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, height, width, height, chartFont)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="20" font-size="15" font-weight="600">%s</text>`, esc(title))
	for _, f := range []float64{0, 0.5, 1} {
		y := yOf(f * maxShare)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, y, width-right, y, left-6, y+4, pct(f*maxShare))
	}
	barW := slot * 0.8 / float64(len(tiers))
	for i, t := range tiers {
		color := palette[i%len(palette)]
		x := left + 90*i
		fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`, x, color, x+16, esc(t.Name))
		if t.Latency == nil {
			continue
		}
		for bk, c := range t.Latency.Buckets {
			if c == 0 || bk < lo {
				continue
			}
			share := float64(c) / float64(t.Latency.Samples)
			bx := float64(left) + slot*float64(bk-lo) + slot*0.1 + barW*float64(i)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d of %d samples</title></rect>`,
				bx, yOf(share), barW, float64(top)+ph-yOf(share), color, esc(t.Name+", "+bucketRange(bk)), c, t.Latency.Samples)
		}
	}
	step := max(1, (nb+11)/12) // at most about 12 labels
	for bk := lo; bk <= hi; bk += step {
		x := float64(left) + slot*(float64(bk-lo)+0.5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" font-size="10">%s</text>`, x, float64(top)+ph+14, shortNs(float64(uint64(1)<<bk)))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#555">lookup latency (upper bound of each power-of-two bucket)</text>`,
		float64(left)+pw/2, float64(top)+ph+32)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#888"/></svg>`, left, float64(top)+ph, width-right, float64(top)+ph)
	return b.String()
}

// bucketRange describes latency bucket b: "2.0µs–4.1µs".
func bucketRange(b int) string {
	if b == 0 {
		return "0ns"
	}
	return shortNs(float64(uint64(1)<<(b-1))) + "–" + shortNs(float64(uint64(1)<<b))
}

// shortNs formats ns nanoseconds with two significant digits: 512ns,
// 1.0µs, 16µs, 2.1ms, 1.1s.
func shortNs(ns float64) string {
	units := []struct {
		div  float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}}
	for _, u := range units {
		if v := ns / u.div; v >= 1 || u.div == 1 {
			if v >= 10 {
				return strconv.FormatFloat(v, 'f', 0, 64) + u.name
			}
			return strconv.FormatFloat(v, 'f', 1, 64) + u.name
		}
	}
	return ""
}
