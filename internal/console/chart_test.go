package console

import (
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// chartNode is any element of a rendered chart, parsed as XML.
type chartNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Nodes   []chartNode `xml:",any"`
}

func (n chartNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns the elements under n (n included), in document order, for
// which keep is true.
func (n chartNode) all(keep func(chartNode) bool) []chartNode {
	var out []chartNode
	if keep(n) {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.all(keep)...)
	}
	return out
}

// parseChart renders spec and parses it as XML, failing the test when it is
// not one well-formed element.
func parseChart(t *testing.T, spec chartSpec) (chartNode, string) {
	t.Helper()
	out := string(renderChart(spec))
	var root chartNode
	if err := xml.Unmarshal([]byte(out), &root); err != nil {
		t.Fatalf("chart is not well-formed XML: %v\n%s", err, out)
	}
	if root.XMLName.Local != "div" || root.attr("class") != "chart" {
		t.Fatalf("root is <%s class=%q>, want <div class=\"chart\">", root.XMLName.Local, root.attr("class"))
	}
	return root, out
}

// chartPaths returns the series paths of a chart.
func chartPaths(root chartNode) []chartNode {
	return root.all(func(n chartNode) bool { return n.XMLName.Local == "path" && n.attr("data-series") != "" })
}

// chartLegend returns each legend entry as "NAME VALUES" or "+N more".
func chartLegend(root chartNode) []string {
	var out []string
	for _, li := range root.all(func(n chartNode) bool { return n.XMLName.Local == "li" }) {
		if li.attr("class") == "chart-more" {
			out = append(out, li.Text)
			continue
		}
		var name, values string
		for _, c := range li.Nodes {
			switch c.attr("class") {
			case "chart-name":
				name = c.Text
			case "chart-values":
				values = c.Text
			}
		}
		out = append(out, name+" "+values)
	}
	return out
}

var chartNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// evenSeries is a series of n points every 2 s ending at chartNow, with
// value f(i).
func chartEvenSeries(name string, n int, f func(i int) float64) Series {
	s := Series{Name: name}
	for i := range n {
		s.Points = append(s.Points, Point{T: chartNow.Add(-time.Duration(n-1-i) * 2 * time.Second), V: f(i)})
	}
	return s
}

func chartBaseSpec(series ...Series) chartSpec {
	return chartSpec{
		ID:     "rates",
		Title:  "Messages in per second",
		Unit:   "msg/s",
		From:   chartNow.Add(-30 * time.Minute),
		To:     chartNow,
		Gap:    5 * time.Second,
		Series: series,
		Empty:  "No data yet",
	}
}

func TestRenderChartDrawsOnePathPerSeries(t *testing.T) {
	spec := chartBaseSpec(
		chartEvenSeries("orders", 900, func(i int) float64 { return float64(i % 50) }),
		chartEvenSeries("payments", 900, func(i int) float64 { return 3 }),
		chartEvenSeries("audit", 10, func(i int) float64 { return 1200 }),
	)
	root, _ := parseChart(t, spec)
	svgs := root.all(func(n chartNode) bool { return n.XMLName.Local == "svg" })
	if len(svgs) != 1 || svgs[0].attr("id") != "rates" || svgs[0].attr("viewBox") != "0 0 720 220" || svgs[0].attr("aria-label") != spec.Title {
		t.Fatalf("svg = %+v, want one with id rates, the viewBox and the title", svgs)
	}
	paths := chartPaths(root)
	if len(paths) != 3 {
		t.Fatalf("%d series paths, want 3", len(paths))
	}
	for i, want := range []string{"orders", "payments", "audit"} {
		p := paths[i]
		if p.attr("data-series") != want || p.attr("class") != fmt.Sprintf("chart-line s%d", i) {
			t.Errorf("path %d: data-series %q class %q, want %q and s%d", i, p.attr("data-series"), p.attr("class"), want, i)
		}
		if n := strings.Count(p.attr("d"), "M"); n != 1 {
			t.Errorf("path %s has %d segments, want 1", want, n)
		}
		if pts := strings.Count(p.attr("d"), "L") + 1; pts > chartBuckets {
			t.Errorf("path %s has %d points, want <= %d", want, pts, chartBuckets)
		}
	}
	if got := paths[2].all(func(n chartNode) bool { return n.XMLName.Local == "title" }); len(got) != 1 || got[0].Text != "audit: 1.2k msg/s" {
		t.Errorf("audit path title = %+v, want \"audit: 1.2k msg/s\"", got)
	}
	legend := chartLegend(root)
	want := []string{"orders last 49 msg/s · max 49 msg/s", "payments last 3 msg/s · max 3 msg/s", "audit last 1.2k msg/s · max 1.2k msg/s"}
	if strings.Join(legend, "|") != strings.Join(want, "|") {
		t.Errorf("legend = %q, want %q", legend, want)
	}
	// The y axis goes to 2k (the nice max above 1200) in 5 steps of 500.
	labels := root.all(func(n chartNode) bool { return n.XMLName.Local == "text" })
	var texts []string
	for _, l := range labels {
		texts = append(texts, l.Text)
	}
	if got := strings.Join(texts, " "); got != "msg/s 0 500 1k 1.5k 2k now -10m -20m -30m" {
		t.Errorf("axis labels = %q", got)
	}
	if again := string(renderChart(spec)); again != string(renderChart(spec)) {
		t.Error("the same spec rendered twice gives different output")
	}
}

func TestRenderChartBreaksLineAtGap(t *testing.T) {
	var pts []Point
	add := func(from, to time.Duration) { // points every 2 s from chartNow-from to chartNow-to
		for d := from; d >= to; d -= 2 * time.Second {
			pts = append(pts, Point{T: chartNow.Add(-d), V: 7})
		}
	}
	add(10*time.Minute, 8*time.Minute)
	add(5*time.Minute, 4*time.Minute)
	for _, tc := range []struct {
		name     string
		gap      time.Duration
		extra    []Point
		segments int
		dots     int
	}{
		{name: "gap splits", gap: 5 * time.Second, segments: 2},
		{name: "no gap joins", gap: 0, segments: 1},
		{name: "gap wider than the hole joins", gap: 4 * time.Minute, segments: 1},
		{name: "lone point is a dot", gap: 5 * time.Second, extra: []Point{{T: chartNow.Add(-time.Minute), V: 3}}, segments: 3, dots: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := chartBaseSpec(Series{Name: "lag", Points: append(pts[:len(pts):len(pts)], tc.extra...)})
			spec.Gap = tc.gap
			root, _ := parseChart(t, spec)
			paths := chartPaths(root)
			if len(paths) != 1 {
				t.Fatalf("%d paths, want 1", len(paths))
			}
			d := paths[0].attr("d")
			if n := strings.Count(d, "M"); n != tc.segments {
				t.Errorf("d has %d segments, want %d: %s", n, tc.segments, d)
			}
			if n := strings.Count(d, "a"); n != 2*tc.dots {
				t.Errorf("d has %d arcs, want %d (two per dot): %s", n, 2*tc.dots, d)
			}
		})
	}
}

func TestChartSegmentsDownsampleKeepsMax(t *testing.T) {
	from := chartNow.Add(-30 * time.Minute)
	for _, spike := range []int{0, 1, 450, 898, 899} {
		s := chartEvenSeries("lag", 900, func(i int) float64 {
			if i == spike {
				return 1e6
			}
			return float64(i % 3)
		})
		segs, last, peak, has := chartSegments(s.Points, from, chartNow, 5*time.Second, chartBuckets)
		if !has || len(segs) != 1 {
			t.Fatalf("spike %d: has %v, %d segments, want one", spike, has, len(segs))
		}
		if n := len(segs[0]); n > chartBuckets || n < chartBuckets-2 {
			t.Errorf("spike %d: %d points after downsampling, want about %d", spike, n, chartBuckets)
		}
		found := false
		for i, p := range segs[0] {
			found = found || p.V == 1e6 && p.D == s.Points[spike].T.Sub(from)
			if i > 0 && p.D <= segs[0][i-1].D {
				t.Fatalf("spike %d: points out of order at %d", spike, i)
			}
		}
		if !found {
			t.Errorf("spike %d: the maximum was lost by downsampling", spike)
		}
		if peak != 1e6 || last != s.Points[899].V {
			t.Errorf("spike %d: last %v max %v, want %v and 1e6", spike, last, peak, s.Points[899].V)
		}
	}
	// The spike is drawn at the top of the plot (the nice max is 1M).
	s := chartEvenSeries("lag", 900, func(i int) float64 {
		if i == 333 {
			return 1e6
		}
		return 1
	})
	root, _ := parseChart(t, chartBaseSpec(s))
	if d := chartPaths(root)[0].attr("d"); !strings.Contains(d, fmt.Sprintf(" %d", chartTop)+"L") {
		t.Errorf("no point at the top of the plot (y=%d): %s", chartTop, d)
	}
}

func TestChartSegmentsDropsBadValues(t *testing.T) {
	at := func(s int) time.Time { return chartNow.Add(-time.Duration(s) * time.Second) }
	pts := []Point{
		{at(3600), 100},                 // before From
		{at(10), 1},                     //
		{at(8), math.NaN()},             // dropped
		{at(6), 2},                      //
		{at(4), math.Inf(1)},            // dropped
		{at(3), -5},                     // dropped
		{at(2), math.Inf(-1)},           // dropped
		{at(0), 3},                      //
		{chartNow.Add(time.Second), 50}, // after To
	}
	segs, last, peak, has := chartSegments(pts, chartNow.Add(-time.Minute), chartNow, 10*time.Second, chartBuckets)
	if !has || len(segs) != 1 || len(segs[0]) != 3 || last != 3 || peak != 3 {
		t.Fatalf("segments %v last %v max %v has %v, want one run 1,2,3", segs, last, peak, has)
	}
	spec := chartBaseSpec(Series{Name: "x", Points: pts})
	spec.From = chartNow.Add(-time.Minute)
	spec.Gap = 10 * time.Second
	root, out := parseChart(t, spec)
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Errorf("output mentions NaN or Inf: %s", out)
	}
	if d := chartPaths(root)[0].attr("d"); strings.Count(d, "M") != 1 || strings.Count(d, "L") != 2 {
		t.Errorf("d = %s, want one line through 3 points", d)
	}
	// Only bad values: nothing to draw.
	only := chartBaseSpec(Series{Name: "x", Points: []Point{{at(1), math.NaN()}, {at(0), -1}}})
	if root, _ := parseChart(t, only); len(chartPaths(root)) != 0 {
		t.Error("a series of NaN and negative values drew a path")
	}
}

func TestChartSegmentsSortsPoints(t *testing.T) {
	pts := []Point{{chartNow, 3}, {chartNow.Add(-4 * time.Second), 1}, {chartNow.Add(-2 * time.Second), 2}}
	segs, last, _, _ := chartSegments(pts, chartNow.Add(-time.Minute), chartNow, 0, chartBuckets)
	if len(segs) != 1 || len(segs[0]) != 3 || segs[0][0].V != 1 || segs[0][2].V != 3 || last != 3 {
		t.Errorf("segments %v last %v, want 1,2,3 in time order", segs, last)
	}
	if pts[0].V != 3 {
		t.Error("chartSegments modified its input")
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct {
		max       float64
		integer   bool
		top, step float64
	}{
		{0, false, 1, 0.2},
		{0, true, 5, 1},
		{math.NaN(), false, 1, 0.2},
		{0.3, false, 0.5, 0.1},
		{0.3, true, 5, 1},
		{1, false, 1, 0.2},
		{7, false, 10, 2},
		{7, true, 10, 2},
		{12, true, 20, 5},
		{99, false, 100, 20},
		{100, false, 100, 20},
		{101, false, 200, 50},
		{240, true, 250, 50},
		{12345, false, 20000, 5000},
		{3.2e6, true, 5e6, 1e6},
	} {
		top, step := niceScale(tc.max, tc.integer)
		if !approxEq(top, tc.top) || !approxEq(step, tc.step) {
			t.Errorf("niceScale(%v, %v) = %v, %v; want %v, %v", tc.max, tc.integer, top, step, tc.top, tc.step)
		}
		if n := math.Round(top / step); n < 4 || n > 5 {
			t.Errorf("niceScale(%v, %v): %v gridlines, want 4 or 5", tc.max, tc.integer, n)
		}
	}
}

func approxEq(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestCompactNumber(t *testing.T) {
	for _, tc := range []struct {
		v       float64
		integer bool
		want    string
	}{
		{0, false, "0"},
		{0.25, false, "0.25"},
		{0.1 + 0.2, false, "0.3"},
		{3 * 0.2, false, "0.6"},
		{1.5, false, "1.5"},
		{7, false, "7"},
		{12.34, false, "12.3"},
		{250, false, "250"},
		{999.96, false, "1k"},
		{7.6, true, "8"},
		{999, true, "999"},
		{1000, true, "1k"},
		{1234, false, "1.2k"},
		{1250, true, "1.3k"},
		{12345, true, "12.3k"},
		{250000, false, "250k"},
		{999_960, false, "1M"},
		{3.4e6, false, "3.4M"},
		{5e9, true, "5G"},
		{2e21, false, "2000E"},
	} {
		if got := compactNumber(tc.v, tc.integer); got != tc.want {
			t.Errorf("compactNumber(%v, %v) = %q, want %q", tc.v, tc.integer, got, tc.want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	for _, tc := range []struct {
		span time.Duration
		want string
	}{
		{30 * time.Minute, "now -10m -20m -30m"},
		{10 * time.Minute, "now -2m -4m -6m -8m -10m"},
		{5 * time.Minute, "now -1m -2m -3m -4m -5m"},
		{75 * time.Second, "now -15s -30s -45s -1m -1m15s"},
		{20 * time.Second, "now -10s -20s"},
		{3 * time.Hour, "now -1h -2h -3h"},
		{10 * 24 * time.Hour, "now -72h -144h -216h"},
	} {
		var got []string
		for _, k := range timeTicks(tc.span) {
			got = append(got, ago(k))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("ticks for %v = %q, want %q", tc.span, got, tc.want)
		}
	}
}

func TestRenderChartEscapesNames(t *testing.T) {
	const evil = `<script>&"'`
	spec := chartBaseSpec(chartEvenSeries(evil, 5, func(int) float64 { return 1 }))
	spec.ID = `x"y`
	spec.Title = `<b>t</b>`
	spec.Unit = `<u>`
	root, out := parseChart(t, spec)
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") || strings.Contains(out, "<u>") {
		t.Fatalf("unescaped markup in output: %s", out)
	}
	paths := chartPaths(root)
	if len(paths) != 1 || paths[0].attr("data-series") != evil {
		t.Fatalf("paths = %+v, want one with data-series %q", paths, evil)
	}
	if got := chartLegend(root); len(got) != 1 || !strings.HasPrefix(got[0], evil+" last 1 <u>") {
		t.Errorf("legend = %q, want it to start with the name and value", got)
	}
	if svg := root.all(func(n chartNode) bool { return n.XMLName.Local == "svg" }); svg[0].attr("id") != spec.ID || svg[0].attr("aria-label") != spec.Title {
		t.Errorf("svg id %q label %q", svg[0].attr("id"), svg[0].attr("aria-label"))
	}
}

func TestRenderChartEmpty(t *testing.T) {
	for _, tc := range []struct {
		name   string
		series []Series
	}{
		{"no series", nil},
		{"series without data", []Series{{Name: "orders"}, {Name: "old", Points: []Point{{T: chartNow.Add(-time.Hour), V: 5}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := chartBaseSpec(tc.series...)
			spec.Unit = "records"
			spec.Empty = "No data yet: the console samples every 2 s"
			root, _ := parseChart(t, spec)
			if p := chartPaths(root); len(p) != 0 {
				t.Errorf("%d series paths, want none", len(p))
			}
			empty := root.all(func(n chartNode) bool { return n.attr("class") == "chart-empty" })
			if len(empty) != 1 || empty[0].Text != spec.Empty || empty[0].attr("text-anchor") != "middle" {
				t.Fatalf("empty text = %+v, want %q centred", empty, spec.Empty)
			}
			if x := empty[0].attr("x"); x != fmt.Sprint(chartLeft+chartPlotW/2) {
				t.Errorf("empty text at x=%s, want the middle of the plot", x)
			}
			grid := root.all(func(n chartNode) bool { return n.XMLName.Local == "line" })
			if len(grid) != 6+4 { // y: 0..5 records; x: now, -10m, -20m, -30m
				t.Errorf("%d grid lines, want 10", len(grid))
			}
		})
	}
}

func TestRenderChartLimitsToEightSeries(t *testing.T) {
	var series []Series
	for i := range 11 {
		peak := float64((i*7)%11 + 1) // a permutation of 1..11
		series = append(series, chartEvenSeries(fmt.Sprintf("t%d", i), 30, func(j int) float64 { return peak * float64(j%2) }))
	}
	root, _ := parseChart(t, chartBaseSpec(series...))
	paths := chartPaths(root)
	var got []string
	for i, p := range paths {
		got = append(got, p.attr("data-series"))
		if p.attr("class") != fmt.Sprintf("chart-line s%d", i) {
			t.Errorf("path %s class %q, want s%d", p.attr("data-series"), p.attr("class"), i)
		}
	}
	// Maxima: t0 1, t1 8, t2 4, t3 11, t4 7, t5 3, t6 10, t7 6, t8 2, t9 9, t10 5.
	// The three smallest (t0, t8, t5) are left out.
	if want := "t1 t2 t3 t4 t6 t7 t9 t10"; strings.Join(got, " ") != want {
		t.Errorf("drawn series %q, want %q", got, want)
	}
	legend := chartLegend(root)
	if len(legend) != 9 || legend[8] != "+3 more" {
		t.Errorf("legend = %q, want 8 series and \"+3 more\"", legend)
	}
}

func BenchmarkRenderChart(b *testing.B) {
	var series []Series
	for s := range 8 {
		series = append(series, chartEvenSeries(fmt.Sprintf("topic-%d", s), 900, func(i int) float64 {
			return float64((i*31+s*17)%1000) * 1.5
		}))
	}
	spec := chartBaseSpec(series...)
	b.ReportAllocs()
	for b.Loop() {
		renderChart(spec)
	}
}

func TestRenderSparkline(t *testing.T) {
	from := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	to := from.Add(10 * time.Minute)
	if got := renderSparkline(nil, from, to, 0, "x"); got != "" {
		t.Errorf("no points: %q, want nothing", got)
	}
	pts := []Point{{from.Add(time.Minute), 5}, {from.Add(2 * time.Minute), 20}, {from.Add(9 * time.Minute), 10}}
	out := string(renderSparkline(pts, from, to, 2*time.Minute, `lag of <g&"1">`))
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, out)
	}
	for _, want := range []string{`aria-label="lag of &lt;g&amp;&#34;1&#34;&gt;: now 10, at most 20"`, `d="M`, "l0.1 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("sparkline lacks %s:\n%s", want, out)
		}
	}
	// Two runs (the gap of 7 minutes breaks the line), the second a dot;
	// the peak (20) is at the top edge, y = 1.
	if n := strings.Count(out, "M"); n != 2 {
		t.Errorf("%d runs, want 2 (gap):\n%s", n, out)
	}
	if !strings.Contains(out, " 1L") && !strings.Contains(out, " 1M") && !strings.Contains(out, " 1\"") {
		t.Errorf("the peak is not at the top (y 1):\n%s", out)
	}
}
