package chart

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

// goldenCases are rendered into testdata/<name>.svg; UPDATE_GOLDEN=1
// rewrites the files. The files hold the output with a newline between
// elements, so that diffs are readable.
func goldenCases() []struct {
	name string
	c    templ.Component
} {
	nan := math.NaN()
	many := make([]Series, 10)
	for g := range many {
		many[g] = series("GPU "+strconv.Itoa(g), t0, 5*time.Minute, 73, wave(40+float64(g)*3, 60+float64(g)*3, 24, g*3))
	}
	gappy := series("node-a/GPU 0", t0, time.Minute, 60, wave(150, 300, 20, 0))
	for i := 10; i < 15; i++ {
		gappy.Points[i].V = nan // a NaN run
	}
	gappy.Points[21].V, gappy.Points[23].V = nan, nan              // a lone point at 22
	gappy.Points = append(gappy.Points[:35], gappy.Points[45:]...) // 10 missing minutes
	return []struct {
		name string
		c    templ.Component
	}{
		{"single_percent", TimeSeries(Chart{Title: "GPU utilisation", Unit: "%", Min: ptr(0.0), Max: ptr(100.0),
			Start: t0, End: t0.Add(time.Hour),
			Series: []Series{series("GPU 0", t0, time.Minute, 61, wave(5, 95, 30, 0))}})},
		{"multi_legend", TimeSeries(Chart{Title: "GPU temperature", Unit: "°C",
			Start: t0, End: t0.Add(6 * time.Hour), Series: many})},
		{"gaps", TimeSeries(Chart{Title: "Power", Unit: "W", Start: t0, End: t0.Add(time.Hour),
			Series: []Series{gappy}})},
		{"empty", TimeSeries(Chart{Title: "GPU utilisation", Unit: "%", Start: t0, End: t0.Add(time.Hour),
			Empty: "No samples in range", Series: []Series{{Name: "GPU 0"}, series("GPU 1", t0, time.Minute, 5, func(int) float64 { return nan })}})},
		{"constant", TimeSeries(Chart{Title: "Power limit", Unit: "W", Start: t0, End: t0.Add(time.Hour),
			Series: []Series{series("GPU 0", t0, time.Minute, 61, func(int) float64 { return 300 })}})},
		{"negative", TimeSeries(Chart{Title: "Clock offset", Unit: "MHz", Start: t0, End: t0.Add(time.Hour),
			Series: []Series{series("GPU 0", t0, time.Minute, 61, wave(-250, 120, 20, 0))}})},
		{"huge_bytes", TimeSeries(Chart{Title: "Bytes read by the fleet", Unit: "bytes", Start: t0, End: t0.Add(time.Hour),
			Series: []Series{
				series("cluster a", t0, time.Minute, 61, wave(2<<40, 1.4*(1<<50), 30, 0)),
				series("cluster b", t0, time.Minute, 61, wave(1<<30, 300<<40, 20, 5)),
			}})},
		{"ticks_1h", TimeSeries(tickChart(time.Hour, time.Minute))},
		{"ticks_6h", TimeSeries(tickChart(6*time.Hour, 5*time.Minute))},
		{"ticks_24h", TimeSeries(tickChart(24*time.Hour, 20*time.Minute))},
		{"ticks_7d", TimeSeries(tickChart(7*24*time.Hour, 2*time.Hour))},
		{"sparkline", Sparkline(Spark{Label: "GPU 0 utilisation", Unit: "%", Min: ptr(0.0), Max: ptr(100.0),
			Points: series("", t0, time.Minute, 61, wave(10, 90, 16, 0)).Points})},
	}
}

// tickChart is a small one-series chart of span ending at t0.
func tickChart(span, step time.Duration) Chart {
	n := int(span/step) + 1
	start := t0.Add(-span)
	return Chart{Title: "SM clock", Unit: "MHz", Start: start, End: t0,
		Series: []Series{series("GPU 0", start, step, n, wave(1200, 1980, 12, 0))}}
}

func TestGolden(t *testing.T) {
	update := os.Getenv("UPDATE_GOLDEN") == "1"
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			wellFormed(t, got)
			got = strings.ReplaceAll(got, "><", ">\n<") + "\n"
			path := filepath.Join("testdata", tc.name+".svg")
			if update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the output; rerun with UPDATE_GOLDEN=1 and review the diff\n%s", path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + w[i] + "\ngot  " + g[i]
		}
	}
	return "length differs: want " + strconv.Itoa(len(w)) + " lines, got " + strconv.Itoa(len(g))
}
