package console

// Line charts drawn on the server as inline SVG (no JavaScript library, no
// network): messages in per second per topic, lag per group and lag per
// partition over the sampled history (history.go). renderChart turns a
// chartSpec into one HTML fragment: a <div class="chart"> holding the <svg>
// (grid, axes, one <path> per series) and its legend as a list.

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Point is one sample of a series.
type Point struct {
	T time.Time
	V float64
}

// Series is one line of a chart: Points in time order; a missing sample
// (the cluster did not answer) is simply absent, and the line breaks
// where two points are more than chartSpec.Gap apart.
type Series struct {
	Name   string
	Points []Point
}

// chartSpec says what to draw.
type chartSpec struct {
	ID     string        // DOM id of the <svg> (also prefixes inner ids); required
	Title  string        // accessible name (aria-label), e.g. "Messages in per second"
	Unit   string        // y unit for labels and the legend, e.g. "msg/s" or "records"
	From   time.Time     // left edge
	To     time.Time     // right edge ("now")
	Gap    time.Duration // points further apart than this are not joined (0: always join)
	Series []Series      // drawn in order; colour i%8
	Empty  string        // text drawn when no series has a point, e.g. "No data yet: the console samples every 2 s"
}

// Geometry of every chart, in viewBox units. The plot is the rectangle
// [chartLeft, chartLeft+chartPlotW] × [chartTop, chartTop+chartPlotH].
const (
	chartW       = 720
	chartH       = 220
	chartLeft    = 52 // room for the y labels
	chartRight   = 8
	chartTop     = 20 // room for the unit
	chartBottom  = 24 // room for the x labels
	chartPlotW   = chartW - chartLeft - chartRight
	chartPlotH   = chartH - chartTop - chartBottom
	chartBuckets = chartPlotW / 2 // at most one point per two columns
	chartColours = 8              // CSS classes s0..s7
	chartDotR    = 1.5            // radius of a lone point's dot
)

// chartPt is a point placed on a chart: D after its left edge.
type chartPt struct {
	D time.Duration
	V float64
}

// chartLine is one series ready to draw.
type chartLine struct {
	name   string
	segs   [][]chartPt // downsampled runs of points joined by a line
	last   float64     // last value in [From, To]; valid when has
	max    float64     // largest value in [From, To]; valid when has
	has    bool        // the series has a point in [From, To]
	colour int         // CSS class s<colour>
}

// renderChart draws spec as one <svg> element (with a legend) to put inline in a page.
//
// Points outside [From, To] and values that are negative, NaN or infinite
// are dropped. Each run of points (split where two are more than Gap apart)
// is downsampled to at most one point per two pixel columns, keeping the
// largest value of each column pair so peaks stay visible; a run of one
// point is drawn as a dot. With more than 8 series only the 8 with the
// largest maxima are drawn (in spec order, coloured by their position
// among the drawn ones) and the legend says how many are left out. The
// output depends only on spec.
func renderChart(spec chartSpec) template.HTML {
	id := spec.ID
	if id == "" {
		id = "chart"
	}
	span := spec.To.Sub(spec.From)
	if span <= 0 {
		span = time.Second
	}
	from := spec.To.Add(-span)
	integer := integerUnit(spec.Unit)

	lines := make([]chartLine, len(spec.Series))
	for i, s := range spec.Series {
		segs, last, peak, has := chartSegments(s.Points, from, spec.To, spec.Gap, chartBuckets)
		lines[i] = chartLine{name: s.Name, segs: segs, last: last, max: peak, has: has, colour: i % chartColours}
	}
	shown, hidden := pickLines(lines, chartColours)

	top := 0.0
	anyData := false
	for _, l := range shown {
		if l.has {
			anyData = true
			top = math.Max(top, l.max)
		}
	}
	top, step := niceScale(top, integer)

	w := chartWriter{}
	b := &w.b
	b.Grow(2048 + 16*chartBuckets*len(shown))
	b.WriteString(`<div class="chart">`)
	b.WriteString(`<svg id="`)
	b.WriteString(html.EscapeString(id))
	b.WriteString(`" class="chart-svg" viewBox="0 0 ` + strconv.Itoa(chartW) + ` ` + strconv.Itoa(chartH) + `" role="img" aria-label="`)
	b.WriteString(html.EscapeString(spec.Title))
	if anyData {
		b.WriteString(`" aria-describedby="`)
		b.WriteString(html.EscapeString(id + "-legend"))
	}
	b.WriteString(`"><title>`)
	b.WriteString(html.EscapeString(spec.Title))
	b.WriteString(`</title>`)

	// Grid and y labels: 0, step, 2·step ... top.
	b.WriteString(`<g class="chart-grid">`)
	n := int(math.Round(top / step))
	for i := 0; i <= n; i++ {
		y := chartY(float64(i)*step, top)
		b.WriteString(`<line x1="`)
		w.num(chartLeft)
		b.WriteString(`" x2="`)
		w.num(chartLeft + chartPlotW)
		b.WriteString(`" y1="`)
		w.num(y)
		b.WriteString(`" y2="`)
		w.num(y)
		if i == 0 {
			b.WriteString(`" class="chart-axis`)
		}
		b.WriteString(`"/>`)
	}
	ticks := timeTicks(span)
	for _, k := range ticks {
		x := chartX(span-k, span)
		b.WriteString(`<line x1="`)
		w.num(x)
		b.WriteString(`" x2="`)
		w.num(x)
		b.WriteString(`" y1="`)
		w.num(chartTop)
		b.WriteString(`" y2="`)
		w.num(chartTop + chartPlotH)
		b.WriteString(`"/>`)
	}
	b.WriteString(`</g><g class="chart-labels">`)
	if spec.Unit != "" {
		b.WriteString(`<text x="`)
		w.num(chartLeft)
		b.WriteString(`" y="12" class="chart-unit">`)
		b.WriteString(html.EscapeString(spec.Unit))
		b.WriteString(`</text>`)
	}
	for i := 0; i <= n; i++ {
		v := float64(i) * step
		b.WriteString(`<text x="`)
		w.num(chartLeft - 6)
		b.WriteString(`" y="`)
		w.num(chartY(v, top) + 4)
		b.WriteString(`" text-anchor="end">`)
		b.WriteString(compactNumber(v, integer))
		b.WriteString(`</text>`)
	}
	for i, k := range ticks {
		anchor := "middle"
		switch {
		case i == 0:
			anchor = "end" // "now" at the right edge
		case k == span:
			anchor = "start" // the left edge
		}
		b.WriteString(`<text x="`)
		w.num(chartX(span-k, span))
		b.WriteString(`" y="`)
		w.num(chartH - 8)
		b.WriteString(`" text-anchor="` + anchor + `">`)
		b.WriteString(ago(k))
		b.WriteString(`</text>`)
	}
	b.WriteString(`</g>`)

	if !anyData {
		b.WriteString(`<text x="`)
		w.num(chartLeft + chartPlotW/2)
		b.WriteString(`" y="`)
		w.num(chartTop + chartPlotH/2)
		b.WriteString(`" text-anchor="middle" class="chart-empty">`)
		b.WriteString(html.EscapeString(spec.Empty))
		b.WriteString(`</text></svg></div>`)
		return template.HTML(b.String())
	}

	for _, l := range shown {
		if !l.has {
			continue
		}
		name := html.EscapeString(l.name)
		b.WriteString(`<path class="chart-line s`)
		b.WriteString(strconv.Itoa(l.colour))
		b.WriteString(`" data-series="`)
		b.WriteString(name)
		b.WriteString(`" d="`)
		for _, seg := range l.segs {
			w.segment(seg, span, top)
		}
		b.WriteString(`"><title>`)
		b.WriteString(name)
		b.WriteString(`: `)
		b.WriteString(withUnit(compactNumber(l.last, integer), spec.Unit))
		b.WriteString(`</title></path>`)
	}
	b.WriteString(`</svg><ul class="chart-legend" id="`)
	b.WriteString(html.EscapeString(id + "-legend"))
	b.WriteString(`">`)
	for _, l := range shown {
		b.WriteString(`<li><span class="chart-swatch s`)
		b.WriteString(strconv.Itoa(l.colour))
		b.WriteString(`"></span><span class="chart-name">`)
		b.WriteString(html.EscapeString(l.name))
		b.WriteString(`</span> <span class="chart-values">`)
		if l.has {
			b.WriteString(`last `)
			b.WriteString(withUnit(compactNumber(l.last, integer), spec.Unit))
			b.WriteString(` · max `)
			b.WriteString(withUnit(compactNumber(l.max, integer), spec.Unit))
		} else {
			b.WriteString(`no data`)
		}
		b.WriteString(`</span></li>`)
	}
	if hidden > 0 {
		b.WriteString(`<li class="chart-more">+`)
		b.WriteString(strconv.Itoa(hidden))
		b.WriteString(` more</li>`)
	}
	b.WriteString(`</ul></div>`)
	return template.HTML(b.String())
}

// chartWriter builds a chart's markup; scratch avoids an allocation per
// number formatted.
type chartWriter struct {
	b       strings.Builder
	scratch [32]byte
}

// num writes v with at most one decimal (a tenth of a viewBox unit is well
// under a pixel), as integer tenths: much cheaper than formatting a float.
func (w *chartWriter) num(v float64) {
	n := int64(math.Round(v * 10))
	if n < 0 {
		w.b.WriteByte('-')
		n = -n
	}
	w.b.Write(strconv.AppendInt(w.scratch[:0], n/10, 10))
	if n%10 != 0 {
		w.b.WriteByte('.')
		w.b.WriteByte(byte('0' + n%10))
	}
}

// segment writes one run of points as path data: a line through them, or a
// dot (a tiny full circle drawn with two arcs) when the run is one point.
func (w *chartWriter) segment(seg []chartPt, span time.Duration, top float64) {
	if len(seg) == 1 {
		x, y := chartX(seg[0].D, span), chartY(seg[0].V, top)
		w.b.WriteByte('M')
		w.num(x - chartDotR)
		w.b.WriteByte(' ')
		w.num(y)
		for _, dx := range [2]float64{2 * chartDotR, -2 * chartDotR} { // two half circles
			w.b.WriteByte('a')
			w.num(chartDotR)
			w.b.WriteByte(' ')
			w.num(chartDotR)
			w.b.WriteString(" 0 1 0 ")
			w.num(dx)
			w.b.WriteString(" 0")
		}
		return
	}
	for i, p := range seg {
		if i == 0 {
			w.b.WriteByte('M')
		} else {
			w.b.WriteByte('L')
		}
		w.num(chartX(p.D, span))
		w.b.WriteByte(' ')
		w.num(chartY(p.V, top))
	}
}

// chartX is the horizontal position of a point d after the left edge of a
// plot spanning span.
func chartX(d, span time.Duration) float64 {
	return chartLeft + float64(d)/float64(span)*chartPlotW
}

// chartY is the vertical position of v on a plot from 0 (bottom) to top.
func chartY(v, top float64) float64 {
	return chartTop + chartPlotH - v/top*chartPlotH
}

// chartSegments keeps the points of pts inside [from, to] whose value is a
// finite number >= 0, splits them into runs where two consecutive points
// are more than gap apart (gap 0: never), and downsamples each run to at
// most one point per time bucket (buckets of them over [from, to]), keeping
// the point with the largest value. It also returns the last and the
// largest kept value, and whether any point was kept. pts is not modified.
func chartSegments(pts []Point, from, to time.Time, gap time.Duration, buckets int) (segs [][]chartPt, last, peak float64, has bool) {
	span := to.Sub(from)
	kept := make([]chartPt, 0, len(pts))
	for _, p := range pts {
		d := p.T.Sub(from)
		if p.V < 0 || math.IsNaN(p.V) || math.IsInf(p.V, 0) || d < 0 || d > span {
			continue
		}
		kept = append(kept, chartPt{D: d, V: p.V})
	}
	if len(kept) == 0 {
		return nil, 0, 0, false
	}
	byTime := func(a, b chartPt) int { return cmp.Compare(a.D, b.D) }
	if !slices.IsSortedFunc(kept, byTime) {
		slices.SortStableFunc(kept, byTime)
	}
	last = kept[len(kept)-1].V
	for _, p := range kept {
		if p.V > peak {
			peak = p.V
		}
	}

	scale := float64(buckets) / float64(max(span, 1))
	start := 0
	for i := 1; i <= len(kept); i++ {
		if i < len(kept) && (gap <= 0 || kept[i].D-kept[i-1].D <= gap) {
			continue
		}
		segs = append(segs, downsampleMax(kept[start:i], scale, buckets))
		start = i
	}
	return segs, last, peak, true
}

// downsampleMax keeps, for each bucket (D·scale, at most buckets-1), the
// point of run with the largest value (the first of equals). run is in
// time order, so buckets come in order; it is compacted in place and the
// kept prefix returned.
func downsampleMax(run []chartPt, scale float64, buckets int) []chartPt {
	bucket := func(d time.Duration) int { return min(int(float64(d)*scale), buckets-1) }
	w, cur := 0, bucket(run[0].D)
	for _, p := range run[1:] {
		if b := bucket(p.D); b != cur {
			w++
			run[w], cur = p, b
		} else if p.V > run[w].V {
			run[w] = p
		}
	}
	return run[:w+1]
}

// pickLines returns the lines to draw, at most limit, and how many are left
// out. With more than limit lines it keeps those with the largest maxima
// (a line without data counts as smallest; ties: the earlier), in their
// original order, recoloured by position so no two drawn lines share a
// colour.
func pickLines(lines []chartLine, limit int) (shown []chartLine, hidden int) {
	if len(lines) <= limit {
		return lines, 0
	}
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	rank := func(l chartLine) float64 {
		if !l.has {
			return -1
		}
		return l.max
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(lines[b]), rank(lines[a])) })
	order = order[:limit]
	slices.Sort(order)
	shown = make([]chartLine, len(order))
	for i, j := range order {
		shown[i] = lines[j]
		shown[i].colour = i
	}
	return shown, len(lines) - limit
}

// niceScale returns the top of the y axis for values up to peak: the
// smallest 1, 2, 2.5 or 5 × 10^n at or above peak, and the step of its
// gridlines (top/step is 4 or 5). With integer, the step is a whole number
// (so the smallest top is 5). peak <= 0 gives 1 (5 with integer).
func niceScale(peak float64, integer bool) (top, step float64) {
	if !(peak > 0) || math.IsInf(peak, 0) {
		peak = 0
	}
	e := 0
	if peak > 0 {
		e = int(math.Floor(math.Log10(peak))) - 1
	}
	for ; ; e++ {
		p := math.Pow10(e)
		for _, m := range [...]struct{ top, step float64 }{{1, 0.2}, {2, 0.5}, {2.5, 0.5}, {5, 1}} {
			top, step = m.top*p, m.step*p
			if top < peak*(1-1e-12) {
				continue
			}
			if integer && (step < 1 || step != math.Trunc(step)) {
				continue
			}
			return top, step
		}
	}
}

// timeTicks returns the x ticks for a plot of span, as durations before its
// right edge: 0 ("now"), step, 2·step ... while within span. The step is
// the smallest of 10 s, 15 s, 30 s, 1 m, 2 m, 5 m, 10 m ... that makes at
// most 5 intervals.
func timeTicks(span time.Duration) []time.Duration {
	steps := [...]time.Duration{
		10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span <= 5*s {
			step = s
			break
		}
	}
	if span > 5*step { // more than 5 days: whole days
		step = (span/(5*step) + 1) * step
	}
	var ticks []time.Duration
	for k := time.Duration(0); k <= span; k += step {
		ticks = append(ticks, k)
	}
	return ticks
}

// ago labels a tick d before the right edge: "now", "-30s", "-1m30s",
// "-10m", "-2h".
func ago(d time.Duration) string {
	switch {
	case d == 0:
		return "now"
	case d%time.Hour == 0:
		return "-" + strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return "-" + strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d < time.Minute:
		return "-" + strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return "-" + strconv.FormatInt(int64(d/time.Minute), 10) + "m" + strconv.FormatInt(int64(d%time.Minute/time.Second), 10) + "s"
}

// integerUnit reports whether values of unit are counts, labelled as whole
// numbers.
func integerUnit(unit string) bool {
	switch unit {
	case "records", "messages", "bytes":
		return true
	}
	return false
}

// withUnit is "v unit", or v when there is no unit.
func withUnit(v, unit string) string {
	if unit == "" {
		return v
	}
	if v == "1" && strings.HasSuffix(unit, "s") && !strings.Contains(unit, "/") {
		unit = strings.TrimSuffix(unit, "s") // "1 record", not "1 records"
	}
	return v + " " + html.EscapeString(unit)
}

// compactNumber formats v >= 0 for a label: up to 3 significant digits
// below 1000 ("0.25", "7.5", "12.3", "250"; whole numbers with integer),
// then with a suffix and at most one decimal ("1.2k", "12.3k", "250k",
// "3.4M", "1G").
func compactNumber(v float64, integer bool) string {
	if integer {
		v = math.Round(v)
	}
	if v < 1000 {
		var s string
		switch {
		case integer:
			s = strconv.FormatFloat(v, 'f', 0, 64)
		case v < 1:
			s = strconv.FormatFloat(v, 'g', 2, 64)
		case v < 10:
			s = trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
		case v < 100:
			s = trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
		default:
			s = strconv.FormatFloat(v, 'f', 0, 64)
		}
		if s != "1000" {
			return s
		}
	}
	const suffixes = "kMGTPE"
	i, s, d := 0, v/1000, 1
	for {
		d = 1
		if s >= 100 {
			d = 0
		}
		if r := math.Round(s*math.Pow10(d)) / math.Pow10(d); r < 1000 || i == len(suffixes)-1 {
			s = r
			break
		}
		i, s = i+1, s/1000
	}
	return trimZeros(strconv.FormatFloat(s, 'f', d, 64)) + suffixes[i:i+1]
}

// trimZeros drops trailing zeros after a decimal point, and the point.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// renderSparkline draws pts over [from, to] as a small line without axes
// (120×24), to sit next to the number it tells the story of; label names
// it for screen readers. It is empty when no point is in the range.
func renderSparkline(pts []Point, from, to time.Time, gap time.Duration, label string) template.HTML {
	const width, height = 120.0, 24.0
	segs, last, peak, has := chartSegments(pts, from, to, gap, 60)
	if !has {
		return ""
	}
	top := max(peak, 1)
	span := float64(max(to.Sub(from), 1))
	var w chartWriter
	w.b.WriteString(`<svg class="spark" viewBox="0 0 120 24" width="120" height="24" role="img" aria-label="`)
	w.b.WriteString(html.EscapeString(fmt.Sprintf("%s: now %s, at most %s", label, compactNumber(last, false), compactNumber(peak, false))))
	w.b.WriteString(`"><path d="`)
	for _, seg := range segs {
		for i, p := range seg {
			if i == 0 {
				w.b.WriteByte('M')
			} else {
				w.b.WriteByte('L')
			}
			w.num(1 + float64(p.D)/span*(width-2))
			w.b.WriteByte(' ')
			w.num(height - 1 - p.V/top*(height-2))
		}
		if len(seg) == 1 {
			w.b.WriteString("l0.1 0") // a lone point: a dot, with round caps
		}
	}
	w.b.WriteString(`"/></svg>`)
	return template.HTML(w.b.String())
}
