package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// What a person sees on a one-series percent chart: its title, the value
// and time ticks, a hover text per thinned point, and no legend.
func TestTimeSeriesSinglePercent(t *testing.T) {
	c := Chart{Title: "GPU utilisation", Unit: "%", Min: ptr(0.0), Max: ptr(100.0), Start: t0, End: t0.Add(time.Hour),
		Series: []Series{series("GPU 0", t0, 15*time.Second, 241, func(i int) float64 { return float64(i%100) + 0.25 })}}
	out := render(t, TimeSeries(c))
	wellFormed(t, out)
	d := doc(t, out)
	svg := d.Find(`svg[data-testid="chart"]`)
	if svg.Length() != 1 {
		t.Fatalf("want one chart svg, got %d", svg.Length())
	}
	if got, _ := svg.Attr("role"); got != "img" {
		t.Errorf("role = %q", got)
	}
	if got, _ := svg.Attr("aria-label"); got != "GPU utilisation, 1 series, 1h" {
		t.Errorf("aria-label = %q", got)
	}
	if got := texts(d, ".chart-title"); !slices.Equal(got, []string{"GPU utilisation"}) {
		t.Errorf("title = %q", got)
	}
	if got, want := texts(d, ".chart-axis-y text"), []string{"0%", "20%", "40%", "60%", "80%", "100%"}; !slices.Equal(got, want) {
		t.Errorf("y ticks = %q, want %q", got, want)
	}
	if got, want := texts(d, ".chart-axis-x text"), []string{"14:00", "14:10", "14:20", "14:30", "14:40", "14:50", "15:00"}; !slices.Equal(got, want) {
		t.Errorf("x ticks = %q, want %q", got, want)
	}
	if got := texts(d, ".chart-lines path title"); !slices.Equal(got, []string{"GPU 0: last 40.2% at 15:00"}) {
		t.Errorf("series title = %q", got)
	}
	hits := texts(d, ".chart-hits circle title")
	if len(hits) == 0 || len(hits) > hoverPerSeries {
		t.Fatalf("%d hover targets, want 1..%d", len(hits), hoverPerSeries)
	}
	if hits[0] != "GPU 0: 1.25% at 14:00" {
		t.Errorf("first hover text = %q", hits[0])
	}
	if d.Find(".chart-legend").Length() != 0 {
		t.Error("a one-series chart has a legend")
	}
	if d.Find(`[data-testid="chart-empty"]`).Length() != 0 {
		t.Error("empty message on a chart with data")
	}
}

// A legend names the first eight series, then "+N more"; each series gets
// its colour class in turn.
func TestTimeSeriesLegend(t *testing.T) {
	var ss []Series
	for g := range 11 {
		ss = append(ss, series(fmt.Sprintf("node-%c/GPU %d", 'a'+g/4, g%4), t0, time.Minute, 61, wave(30, 80, 20, g)))
	}
	out := render(t, TimeSeries(Chart{Title: "GPU temperature", Unit: "°C", Series: ss}))
	wellFormed(t, out)
	d := doc(t, out)
	want := []string{"node-a/GPU 0", "node-a/GPU 1", "node-a/GPU 2", "node-a/GPU 3", "node-b/GPU 0", "node-b/GPU 1", "node-b/GPU 2", "node-b/GPU 3"}
	if got := texts(d, ".chart-legend text:not(.chart-legend-more)"); !slices.Equal(got, want) {
		t.Errorf("legend = %q, want %q", got, want)
	}
	if got := texts(d, ".chart-legend-more"); !slices.Equal(got, []string{"+3 more"}) {
		t.Errorf("more = %q", got)
	}
	if got, _ := d.Find("svg").Attr("aria-label"); got != "GPU temperature, 11 series, 1h" {
		t.Errorf("aria-label = %q", got)
	}
	var classes []string
	d.Find(".chart-lines path").Each(func(_ int, s *goquery.Selection) { c, _ := s.Attr("class"); classes = append(classes, c) })
	if len(classes) != 11 || classes[0] != "chart-series-0" || classes[7] != "chart-series-7" || classes[8] != "chart-series-0" {
		t.Errorf("series classes = %q", classes)
	}
	// 11 series share the hover budget.
	if n := d.Find(".chart-hits circle").Length(); n > hoverTotal+hoverMin {
		t.Errorf("%d hover targets for 11 series", n)
	}
}

func TestTimeSeriesEmpty(t *testing.T) {
	for name, c := range map[string]Chart{
		"no series":      {Title: "Power", Unit: "W"},
		"no points":      {Title: "Power", Series: []Series{{Name: "GPU 0"}}},
		"all NaN":        {Title: "Power", Series: []Series{series("GPU 0", t0, time.Minute, 5, func(int) float64 { return math.NaN() })}},
		"out of range":   {Title: "Power", Start: t0, End: t0.Add(time.Hour), Series: []Series{series("GPU 0", t0.Add(-3*time.Hour), time.Minute, 60, func(int) float64 { return 1 })}},
		"only infinites": {Title: "Power", Series: []Series{series("GPU 0", t0, time.Minute, 5, func(int) float64 { return math.Inf(1) })}},
	} {
		t.Run(name, func(t *testing.T) {
			out := render(t, TimeSeries(c))
			wellFormed(t, out)
			d := doc(t, out)
			if got := texts(d, `[data-testid="chart-empty"]`); !slices.Equal(got, []string{"No data"}) {
				t.Errorf("empty message = %q", got)
			}
			if got, _ := d.Find(`svg[data-testid="chart"]`).Attr("aria-label"); got != "Power, no data" {
				t.Errorf("aria-label = %q", got)
			}
			if d.Find("path").Length() != 0 {
				t.Error("an empty chart draws paths")
			}
		})
	}
	d := doc(t, render(t, TimeSeries(Chart{Empty: "Agent offline"})))
	if got := texts(d, `[data-testid="chart-empty"]`); !slices.Equal(got, []string{"Agent offline"}) {
		t.Errorf("custom empty message = %q", got)
	}
}

// Text from series names and titles is escaped.
func TestTimeSeriesEscapes(t *testing.T) {
	c := Chart{Title: `<b>"GPU" & co</b>`, Series: []Series{
		series(`a<b>&"c"`, t0, time.Minute, 3, func(i int) float64 { return float64(i) }),
		series("x", t0, time.Minute, 3, func(i int) float64 { return float64(i) }),
	}}
	out := render(t, TimeSeries(c))
	wellFormed(t, out)
	if strings.Contains(out, "<b>") {
		t.Fatal("unescaped markup in output")
	}
	d := doc(t, out)
	if got := texts(d, ".chart-legend text"); got[0] != `a<b>&"c"` {
		t.Errorf("legend = %q", got)
	}
}

func TestTimeSeriesHoverTexts(t *testing.T) {
	loc := time.FixedZone("CEST", 2*3600)
	c := Chart{Title: "Memory", Unit: "MiB", Location: loc, Start: t0, End: t0.Add(7 * 24 * time.Hour), Series: []Series{
		series("GPU 0", t0, time.Hour, 7*24+1, func(i int) float64 { return 1536 + float64(i) }),
	}}
	d := doc(t, render(t, TimeSeries(c)))
	hits := texts(d, ".chart-hits title")
	if len(hits) != 7*24+1 {
		t.Fatalf("%d hover targets, want one per point", len(hits))
	}
	if hits[0] != "GPU 0: 1.5 GiB at Mon 23 16:00" {
		t.Errorf("hover text in CEST = %q", hits[0])
	}
	if got := texts(d, ".chart-axis-x text"); got[0] != "Tue 24" {
		t.Errorf("first day tick = %q", got)
	}
	if got := texts(d, ".chart-lines title"); got[0] != "GPU 0: last 1.66 GiB at Mon 30 16:00" {
		t.Errorf("series title = %q", got)
	}
}

// An 8-GPU 7-day chart at 15 s stays small: every path has at most two
// points per pixel and each series at most the hover budget.
func TestTimeSeriesFleetSize(t *testing.T) {
	c := fleet7d()
	out := render(t, TimeSeries(c))
	wellFormed(t, out)
	if len(out) > 100_000 {
		t.Errorf("7d × 8 series chart is %d bytes, want under 100 KB", len(out))
	}
	d := doc(t, out)
	grid, _ := d.Find(".chart-grid").Attr("d") // starts "M<left> <y>H<right>"
	var left, y, right float64
	if _, err := fmt.Sscanf(grid, "M%g %gH%g", &left, &y, &right); err != nil {
		t.Fatalf("grid %q: %v", grid, err)
	}
	d.Find(".chart-lines path").Each(func(i int, s *goquery.Selection) {
		dd, _ := s.Attr("d")
		if n := pathPoints(dd); n > int(2*(right-left)) || n < int(right-left)/2 {
			t.Errorf("series %d draws %d points on a %g px wide plot", i, n, right-left)
		}
	})
	d.Find(".chart-hits > g").Each(func(i int, s *goquery.Selection) {
		if n := s.Find("circle").Length(); n > hoverPerSeries || n < hoverMin {
			t.Errorf("series %d has %d hover targets", i, n)
		}
	})
}

// pathPoints counts the vertices of path data written by plot.path.
func pathPoints(d string) int {
	n := 0
	for _, sub := range strings.Split(d, "M")[1:] {
		sub = strings.TrimSuffix(sub, "h0")
		nums := strings.Fields(strings.NewReplacer("l", " ", "-", " -").Replace(sub))
		n += len(nums) / 2
	}
	return n
}

func TestSparkline(t *testing.T) {
	s := Spark{Label: "GPU 3 power", Unit: "W", Color: 3,
		Points: series("", t0, time.Minute, 30, func(i int) float64 { return 100 + float64(i) }).Points}
	out := render(t, Sparkline(s))
	wellFormed(t, out)
	d := doc(t, out)
	svg := d.Find(`svg[data-testid="sparkline"]`)
	if got, _ := svg.Attr("aria-label"); got != "GPU 3 power: last 129 W, min 100 W, max 129 W" {
		t.Errorf("aria-label = %q", got)
	}
	if got, _ := svg.Attr("class"); got != "chart-spark chart-series-3" {
		t.Errorf("class = %q", got)
	}
	if d.Find("circle").Length() != 1 || d.Find("path").Length() != 1 {
		t.Error("want one line and a dot on the last value")
	}

	d = doc(t, render(t, Sparkline(Spark{Label: "GPU 3 power"})))
	if got, _ := d.Find("svg").Attr("aria-label"); got != "GPU 3 power: no data" {
		t.Errorf("empty aria-label = %q", got)
	}
	// Constant values draw a flat line in the middle, not NaNs.
	out = render(t, Sparkline(Spark{Points: series("", t0, time.Minute, 5, func(int) float64 { return 7 }).Points, Height: 20}))
	if strings.Contains(out, "NaN") || !strings.Contains(out, `d="M2.5 10l`) {
		t.Errorf("constant sparkline: %s", out)
	}
}

// Rendering is deterministic, and a series out of time order is drawn as if
// sorted.
func TestTimeSeriesDeterministicAndSorted(t *testing.T) {
	s := series("GPU 0", t0, time.Minute, 61, wave(0, 10, 7, 0))
	c := Chart{Unit: "W", Series: []Series{s}}
	a, b := render(t, TimeSeries(c)), render(t, TimeSeries(c))
	if a != b {
		t.Fatal("two renders differ")
	}
	shuffled := slices.Clone(s.Points)
	for i := range shuffled {
		j := (i * 37) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	c2 := Chart{Unit: "W", Series: []Series{{Name: "GPU 0", Points: shuffled}}}
	if got := render(t, TimeSeries(c2)); got != a {
		t.Error("unsorted input renders differently")
	}
	if slices.Equal(shuffled, s.Points) {
		t.Fatal("test did not shuffle")
	}
	if !slices.IsSortedFunc(s.Points, func(a, b Point) int { return a.T.Compare(b.T) }) {
		t.Error("input modified")
	}
}

func TestTimeSeriesLongLegendNames(t *testing.T) {
	long := strings.Repeat("very-long-hostname.", 5) + "GPU 0"
	c := Chart{Series: []Series{
		series(long, t0, time.Minute, 3, func(i int) float64 { return float64(i) }),
		series("GPU 1", t0, time.Minute, 3, func(i int) float64 { return float64(i) }),
	}}
	d := doc(t, render(t, TimeSeries(c)))
	got := texts(d, ".chart-legend text")
	if len([]rune(got[0])) != legendRunes || !strings.HasSuffix(got[0], "…") || got[1] != "GPU 1" {
		t.Errorf("legend %q", got)
	}
	if title := texts(d, ".chart-lines title")[0]; !strings.HasPrefix(title, long+": last 2 at ") {
		t.Errorf("series title %q lost the full name", title)
	}
}

// Tick labels and hover texts carry the unit, humanized.
func TestTimeSeriesUnits(t *testing.T) {
	for _, tc := range []struct {
		unit      string
		lo, hi    float64
		wantTicks []string
		wantFirst string
	}{
		{"bytes", 0, 1.4 * (1 << 50), []string{"0.0 PiB", "0.2 PiB", "0.4 PiB", "0.6 PiB", "0.8 PiB", "1.0 PiB", "1.2 PiB", "1.4 PiB"}, "GPU 0: 0 B at 14:00"},
		{"MiB", 1024, 81920, []string{"0 GiB", "20 GiB", "40 GiB", "60 GiB", "80 GiB"}, "GPU 0: 1 GiB at 14:00"},
		{"°C", 35, 88, []string{"30°C", "40°C", "50°C", "60°C", "70°C", "80°C", "90°C"}, "GPU 0: 35°C at 14:00"},
		{"W", -20, 700, []string{"-200 W", "0 W", "200 W", "400 W", "600 W", "800 W"}, "GPU 0: -20 W at 14:00"},
		{"", 0, 2.3e6, []string{"0.0M", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M"}, "GPU 0: 0 at 14:00"},
	} {
		t.Run(tc.unit, func(t *testing.T) {
			c := Chart{Unit: tc.unit, Series: []Series{series("GPU 0", t0, time.Minute, 61, wave(tc.lo, tc.hi, 60, 0))}}
			d := doc(t, render(t, TimeSeries(c)))
			if got := texts(d, ".chart-axis-y text"); !slices.Equal(got, tc.wantTicks) {
				t.Errorf("y ticks %q, want %q", got, tc.wantTicks)
			}
			if got := texts(d, ".chart-hits title")[0]; got != tc.wantFirst {
				t.Errorf("first hover %q, want %q", got, tc.wantFirst)
			}
		})
	}
}
