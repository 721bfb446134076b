package benchcmd

import (
	"fmt"
	"io"
	"strings"
)

// writeSVG writes one SVG with the throughput, hit ratio and latency charts
// side by side (docs/bench.svg is made with it).
func writeSVG(w io.Writer, rep *Report) error {
	rows := okRows(rep)
	const panelW = 520
	panels := []string{throughputChart(rows, panelW), hitChart(rows, panelW), latencyChart("Latency per operation", panelW, 360, rows)}
	height := 0
	for _, p := range panels {
		height = max(height, svgHeight(p))
	}
	c := rep.Config
	caption := fmt.Sprintf("tiercache go run ./bench: %d keys, Zipf %.2f, %.0f/%.0f/%.0f get/put/delete, %d ops, %d clients, GOMAXPROCS %d, %s",
		c.Keys, c.Skew, 100*c.Get, 100*c.Put, 100*c.Delete, c.Ops, c.Concurrency, c.GOMAXPROCS, c.GoVersion)
	width := panelW * len(panels)
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+
		`<rect width="100%%" height="100%%" fill="#fff"/>`, width, height+24, width, height+24)
	if err != nil {
		return err
	}
	for i, p := range panels {
		fmt.Fprintf(w, `<svg x="%d" y="0"%s`, i*panelW, strings.TrimPrefix(p, `<svg xmlns="http://www.w3.org/2000/svg"`))
	}
	_, err = fmt.Fprintf(w, `<text x="10" y="%d" font-size="11" fill="#555" %s>%s</text></svg>`+"\n", height+16, chartFont, esc(caption))
	return err
}

// svgHeight reads the height attribute of a chart made by this package.
func svgHeight(svg string) int {
	var h int
	if i := strings.Index(svg, `height="`); i >= 0 {
		fmt.Sscanf(svg[i+len(`height="`):], "%d", &h)
	}
	return h
}

// writeHTML writes a self-contained page: the charts as inline SVG, the
// table and the configuration. It loads nothing from the network.
func writeHTML(w io.Writer, rep *Report) error {
	rows := okRows(rep)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tiercache tier-layout benchmark</title>
<style>body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>tiercache tier-layout benchmark</h1>
`)
	c := rep.Config
	fmt.Fprintf(&b, "<p>%d keys, Zipf s=%.2f, bodies %s&ndash;%s (median %s, %s in all), %.0f%% Get / %.0f%% Put / %.0f%% Delete; "+
		"%d warm-up + %d measured operations, %d clients, seed %d; front LRU %d entries / %s; GOMAXPROCS %d, %s %s/%s.</p>\n",
		c.Keys, c.Skew, formatBytes(int64(c.MinSize)), formatBytes(int64(c.MaxSize)), formatBytes(int64(c.MedianSize)),
		formatBytes(c.TotalBodyBytes), 100*c.Get, 100*c.Put, 100*c.Delete, c.Warmup, c.Ops, c.Concurrency, c.Seed,
		c.LRUEntries, formatBytes(c.LRUBytes), c.GOMAXPROCS, esc(c.GoVersion), c.GOOS, c.GOARCH)
	b.WriteString(`<div class="charts">`)
	b.WriteString(throughputChart(rows, 560))
	b.WriteString(hitChart(rows, 560))
	b.WriteString(latencyChart("Latency per operation", 560, 380, rows))
	b.WriteString("</div>\n<table><tr><th>layout</th><th>ops/s</th><th>p50</th><th>p99</th><th>p99.9</th><th>hit</th>" +
		"<th>tier hit (front / lower)</th><th>held per tier</th><th>moved down</th><th>read up</th><th>errors</th></tr>\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%.0f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td></tr>\n",
			esc(r.Name), r.OpsPerSec, fmtUs(r.P50Us), fmtUs(r.P99Us), fmtUs(r.P999Us), pct(r.HitRatio),
			joinTiers(r.Tiers, func(t TierRow) string { return pct(t.HitRatio) }),
			joinTiers(r.Tiers, func(t TierRow) string { return formatBytes(t.BytesHeld) }),
			formatBytes(r.BytesMovedDown), formatBytes(r.BytesReadUp), r.Errors)
	}
	b.WriteString("</table>\n")
	b.WriteString(tierSection(rows))
	if ch := rep.Che; ch != nil {
		fmt.Fprintf(&b, "<p>Che approximation for the front LRU: model %.4f (%.4f without deletes), measured %.4f on <code>%s</code>, "+
			"difference %+.2f points.</p>\n", ch.Model, ch.ModelNoDeletes, ch.Measured, esc(ch.Layout), 100*ch.Diff)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "<p>Note: %s</p>\n", esc(n))
	}
	b.WriteString("<p>Latency is per client operation; a Get miss includes the Put that follows it. Bytes moved down count " +
		"the response bodies written to the tiers below the front (compressed where the tier is compressed).</p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
