package benchcmd

import (
	"fmt"
	"html"
	"math"
	"strings"
	"unicode/utf8"
)

// SVG charts, drawn by hand so that the output needs nothing but a browser.

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f", "#edc948"}

const (
	chartFont  = `font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"`
	labelWidth = 170 // the least width of a bar chart's label column
)

// labelColumn returns the width of a bar chart's label column: labelWidth,
// or wider for long labels (about 7 px per character at font size 12).
func labelColumn(labels []string) int {
	w := labelWidth
	for _, l := range labels {
		w = max(w, 7*utf8.RuneCountInString(l)+16)
	}
	return w
}

// series is one set of bars in a bar chart.
type series struct {
	name   string
	values []float64
}

// barChart draws horizontal grouped bars: one group per label, one bar per
// series. format renders a value.
// With logScale the bar length is proportional to log10(value) over whole
// decades from below the smallest value to above maxV, with decade ticks.
func barChart(title string, width int, labels []string, ss []series, maxV float64, logScale bool, format func(float64) string) string {
	barH, gap := 14, 10
	groupH := barH*len(ss) + gap
	top := 40
	if len(ss) > 1 {
		top = 58
	}
	height := top + groupH*len(labels) + 10
	labelWidth := labelColumn(labels)
	width = max(width, labelWidth+300)
	plotW := float64(width - labelWidth - 90)
	if maxV <= 0 {
		maxV = 1
	}
	scale := func(v float64) float64 { return plotW * max(v, 0) / maxV }
	lo, hi := 0.0, 0.0
	if logScale {
		minV := maxV
		for _, s := range ss {
			for _, v := range s.values {
				if v > 0 {
					minV = math.Min(minV, v)
				}
			}
		}
		lo, hi = math.Floor(math.Log10(minV))-1, math.Ceil(math.Log10(maxV))
		scale = func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return plotW * (math.Log10(v) - lo) / (hi - lo)
		}
		height += 18
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, height, width, height, chartFont)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="20" font-size="15" font-weight="600">%s</text>`, esc(title))
	if len(ss) > 1 {
		for i, s := range ss {
			x := labelWidth + i*110
			fmt.Fprintf(&b, `<rect x="%d" y="34" width="12" height="12" fill="%s"/><text x="%d" y="45">%s</text>`,
				x, palette[i%len(palette)], x+16, esc(s.name))
		}
	}
	for g, label := range labels {
		y := top + g*groupH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+groupH/2, esc(label))
		for i, s := range ss {
			if g >= len(s.values) || math.IsNaN(s.values[g]) {
				continue
			}
			v := s.values[g]
			w := scale(v)
			by := y + i*barH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelWidth, by, w, barH-2, palette[i%len(palette)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11">%s</text>`, float64(labelWidth)+w+4, by+barH-4, esc(format(v)))
		}
	}
	if logScale {
		for e := lo; e <= hi; e++ {
			x := float64(labelWidth) + scale(math.Pow(10, e))
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc" stroke-dasharray="2,3"/><text x="%.1f" y="%d" text-anchor="middle" font-size="10" fill="#555">1e%g</text>`,
				x, top-4, x, height-24, x, height-12, e)
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/></svg>`, labelWidth, top-4, labelWidth, height-10)
	return b.String()
}

// nines maps a percentile to the x position of a latency chart: 0 at p0,
// 1 at p90, 2 at p99, 3 at p99.9, 4 at p99.99.
func nines(p float64) float64 {
	if p >= 100 {
		return 4.5
	}
	return math.Min(-math.Log10(1-p/100), 4.5)
}

// latencyChart draws the latency distribution of each row: latency (log
// scale) against the percentile (nines scale).
func latencyChart(title string, width, height int, rows []Row) string {
	legendRows := (len(rows) + 2) / 3
	left, right, top, bottom := 60, 20, 40, 48+14*legendRows
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		for _, p := range r.Latency {
			if p.Percentile < 100 && p.Us > 0 {
				lo, hi = math.Min(lo, p.Us), math.Max(hi, p.Us)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi <= ylo {
		yhi = ylo + 1
	}
	xOf := func(p float64) float64 { return float64(left) + pw*nines(p)/4 }
	yOf := func(v float64) float64 { return float64(top) + ph*(1-(math.Log10(v)-ylo)/(yhi-ylo)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, height, width, height, chartFont)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="20" font-size="15" font-weight="600">%s</text>`, esc(title))
	for e := ylo; e <= yhi; e++ {
		y := yOf(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, y, width-right, y, left-6, y+4, axisDuration(e))
	}
	for _, p := range []float64{0, 90, 99, 99.9, 99.99} {
		x := xOf(p)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="%.0f" text-anchor="middle">p%g</text>`,
			x, top, x, float64(top)+ph, x, float64(top)+ph+16, p)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#555">percentile (log scale of 1-p)</text>`, float64(left)+pw/2, float64(top)+ph+32)
	for i, r := range rows {
		var pts []string
		for _, p := range r.Latency {
			if p.Percentile < 100 && p.Us > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(p.Percentile), yOf(p.Us)))
			}
		}
		color := palette[i%len(palette)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		lx, ly := left+(i%3)*((width-left)/3), top+int(ph)+48+(i/3)*14
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text>`,
			lx, ly-4, color, lx+16, ly, esc(r.Name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// okRows returns the rows that measured something.
func okRows(rep *Report) []Row {
	var out []Row
	for _, r := range rep.Rows {
		if r.Ops > 0 {
			out = append(out, r)
		}
	}
	return out
}

// throughputChart, hitChart are the two bar charts of a report.
func throughputChart(rows []Row, width int) string {
	labels, vals, maxV := make([]string, len(rows)), make([]float64, len(rows)), 0.0
	for i, r := range rows {
		labels[i], vals[i], maxV = r.Name, r.OpsPerSec, max(maxV, r.OpsPerSec)
	}
	return barChart("Throughput (ops/s, log scale)", width, labels, []series{{"ops/s", vals}}, maxV, true,
		func(v float64) string { return fmt.Sprintf("%.0f", v) })
}

func hitChart(rows []Row, width int) string {
	labels := make([]string, len(rows))
	ss := []series{{name: "overall"}, {name: "front tier"}, {name: "lower tier"}}
	for i, r := range rows {
		labels[i] = r.Name
		ss[0].values = append(ss[0].values, r.HitRatio)
		ss[1].values = append(ss[1].values, tierRatio(r, 0))
		ss[2].values = append(ss[2].values, tierRatio(r, 1))
	}
	return barChart("Hit ratio", width, labels, ss, 1.15, false, func(v float64) string { return pct(v) })
}

func tierRatio(r Row, i int) float64 {
	if i >= len(r.Tiers) {
		return math.NaN()
	}
	return r.Tiers[i].HitRatio
}

// axisDuration labels 10^e microseconds: 10ns, 1µs, 100ms, 10s.
func axisDuration(e float64) string {
	units := []string{"ns", "µs", "ms", "s"}
	k := int(math.Floor((e + 3) / 3)) // 0 for ns
	k = min(max(k, 0), len(units)-1)
	return fmt.Sprintf("%g%s", math.Pow(10, e+3-3*float64(k)), units[k])
}
