package benchcmd

import (
	"fmt"
	"math"
	"strings"
)

// traceChart draws the hit ratio against the entry budget, one line per
// eviction, in the style of chart.go. The x axis is logarithmic when the
// budgets span more than a factor of 10.
func traceChart(tab *TraceTable, width, height int) string {
	left, right, top, bottom := 60, 20, 40, 70
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	lo, hi := float64(tab.Sizes[0]), float64(tab.Sizes[0])
	maxR := 0.0
	for i, s := range tab.Sizes {
		lo, hi = math.Min(lo, float64(s)), math.Max(hi, float64(s))
		for _, r := range tab.HitRatio[i] {
			maxR = math.Max(maxR, r)
		}
	}
	logX := hi > 10*lo
	x := func(s float64) float64 {
		switch {
		case hi == lo:
			return float64(left) + pw/2
		case logX:
			return float64(left) + pw*(math.Log(s)-math.Log(lo))/(math.Log(hi)-math.Log(lo))
		}
		return float64(left) + pw*(s-lo)/(hi-lo)
	}
	yMax := math.Min(1, math.Ceil(maxR*10+0.5)/10) // the next 10% above the best
	y := func(r float64) float64 { return float64(top) + ph*(1-r/yMax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, height, width, height, chartFont)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="20" font-size="15" font-weight="600">%s</text>`,
		esc(fmt.Sprintf("Hit ratio vs entries: %s (%d requests)", tab.Trace, tab.Requests)))
	for r := 0.0; r <= yMax+1e-9; r += 0.1 {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.0f%%</text>`,
			left, y(r), width-right, y(r), left-6, y(r)+4, 100*r)
	}
	for _, s := range tab.Sizes {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#eee"/><text x="%.1f" y="%.0f" text-anchor="middle">%d</text>`,
			x(float64(s)), top, x(float64(s)), float64(top)+ph, x(float64(s)), float64(top)+ph+16, s)
	}
	axis := "entries"
	if logX {
		axis += " (log scale)"
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#555">%s</text>`, float64(left)+pw/2, float64(top)+ph+32, axis)
	for j, ev := range tab.Evictions {
		color := palette[j%len(palette)]
		pts := make([]string, len(tab.Sizes))
		for i, s := range tab.Sizes {
			pts[i] = fmt.Sprintf("%.1f,%.1f", x(float64(s)), y(tab.HitRatio[i][j]))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(float64(s)), y(tab.HitRatio[i][j]), color)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		lx, ly := left+j*110, height-14
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text>`,
			lx, ly-4, color, lx+16, ly, esc(ev))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
