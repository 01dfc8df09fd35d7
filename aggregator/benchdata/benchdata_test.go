package benchdata

import (
	"math"
	"slices"
	"strconv"
	"testing"
)

func TestShapes(t *testing.T) {
	if len(Core) != 25 {
		t.Errorf("Core has %d metrics, want 25", len(Core))
	}
	if len(Metrics) != 57 {
		t.Errorf("%d per-GPU series, want the agent's 57", len(Metrics))
	}
	if len(selfSeries) != 80 {
		t.Errorf("%d node-level series, want the agent's 80", len(selfSeries))
	}
	f := New(Options{Nodes: 2, Metrics: AllMetrics(), Self: true})
	series := f.Series()
	if want := 2 * (8*57 + 80); len(series) != want {
		t.Fatalf("%d series, want %d", len(series), want)
	}
	seen := map[string]bool{}
	for _, s := range series {
		k := s.Labels.String()
		if seen[k] {
			t.Fatalf("duplicate series %s", k)
		}
		seen[k] = true
	}
	if got := len(f.Next(nil)); got != len(series) {
		t.Fatalf("Next gave %d values for %d series", got, len(series))
	}
}

// TestValues checks the agent's value formats over a simulated day of one
// node and that the fleet is deterministic.
func TestValues(t *testing.T) {
	f := New(Options{Metrics: AllMetrics(), Self: true})
	g := New(Options{Metrics: AllMetrics(), Self: true})
	series := f.Series()
	var prev, vals, other []float64
	busy, idle := 0, 0
	for i := range 24 * 240 {
		vals, other = f.Next(vals[:0]), g.Next(other[:0])
		if !slices.Equal(vals, other) {
			t.Fatalf("scrape %d differs between two fleets of the same seed", i)
		}
		for j, v := range vals {
			name := series[j].Labels.Get("__name__")
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				t.Fatalf("%s = %v", name, v)
			case series[j].Kind == Power:
				if s := strconv.FormatFloat(v, 'f', -1, 64); len(s) > 0 && decimals(s) > 3 {
					t.Fatalf("power %s has more than 3 decimals", s)
				}
				if v > 300 {
					busy++
				} else {
					idle++
				}
			case series[j].Kind == Temperature || series[j].Kind == Utilisation:
				if v != math.Trunc(v) {
					t.Fatalf("%s = %v, want an integer", name, v)
				}
			case series[j].Kind == Counter && prev != nil && v < prev[j]:
				t.Fatalf("counter %s went down: %v → %v", name, prev[j], v)
			}
		}
		prev = append(prev[:0], vals...)
	}
	if busy == 0 || idle == 0 {
		t.Errorf("power: %d busy and %d idle readings; want both phases", busy, idle)
	}
}

func decimals(s string) int {
	for i := range s {
		if s[i] == '.' {
			return len(s) - i - 1
		}
	}
	return 0
}
