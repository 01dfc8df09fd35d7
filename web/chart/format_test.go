package chart

import (
	"math"
	"slices"
	"testing"
)

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{45.25, "%", "45.2%"},
		{100, "%", "100%"},
		{0, "%", "0%"},
		{72.5, "°C", "72.5°C"},
		{-3, "°C", "-3°C"},
		{1500, "", "1.5k"},
		{2_345_678, "", "2.35M"},
		{999.7, "", "1k"},
		{0.1234, "", "0.123"},
		{-1500, "", "-1.5k"},
		{250, "W", "250 W"},
		{1500, "W", "1.5 kW"},
		{1410, "MHz", "1.41 GHz"},
		{800, "MHz", "800 MHz"},
		{-250, "MHz", "-250 MHz"},
		{1536, "MiB", "1.5 GiB"},
		{81920, "MiB", "80 GiB"},
		{512, "bytes", "512 B"},
		{1536, "bytes", "1.5 KiB"},
		{5 << 40, "bytes", "5 TiB"},
		{3 << 20, "B/s", "3 MiB/s"},
		{12, "req/s", "12 req/s"},
		{12000, "req/s", "12k req/s"},
		{math.NaN(), "W", "NaN"},
		{math.Inf(1), "%", "+Inf%"},
	} {
		if got := FormatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("FormatValue(%g, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestAppendTenths(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 5: ".5", -5: "-.5", 15: "1.5", 20: "2", -120: "-12", 1234: "123.4"} {
		if got := string(appendTenths(nil, n)); got != want {
			t.Errorf("appendTenths(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 5: "0.5", -5: "-0.5", 20: "2", 1234: "123.4"} {
		if got := tenths(n); got != want {
			t.Errorf("tenths(%d) = %q, want %q", n, got, want)
		}
	}
}

func tickLabels(ts []tick) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.label)
	}
	return out
}

func TestYAxis(t *testing.T) {
	for _, tc := range []struct {
		name           string
		unit           string
		lo, hi         float64
		min, max       *float64
		n              int
		wantLo, wantHi float64
		want           []string
	}{
		{"fixed percent", "%", 3, 97, ptr(0.0), ptr(100.0), 5, 0, 100, []string{"0%", "20%", "40%", "60%", "80%", "100%"}},
		{"auto widens to ticks", "°C", 41.3, 78.9, nil, nil, 5, 40, 80, []string{"40°C", "50°C", "60°C", "70°C", "80°C"}},
		{"constant", "W", 300, 300, nil, nil, 5, 260, 340, []string{"260 W", "280 W", "300 W", "320 W", "340 W"}},
		{"constant zero", "", 0, 0, nil, nil, 4, -1, 1, []string{"-1.0", "-0.5", "0.0", "0.5", "1.0"}},
		{"negative", "", -250, 120, nil, nil, 4, -300, 200, []string{"-300", "-200", "-100", "0", "100", "200"}},
		{"bytes in binary steps", "bytes", 0, 79 << 30, nil, nil, 5, 0, 80 << 30, []string{"0 GiB", "20 GiB", "40 GiB", "60 GiB", "80 GiB"}},
		{"MiB as GiB", "MiB", 0, 81920, nil, nil, 4, 0, 81920, []string{"0 GiB", "20 GiB", "40 GiB", "60 GiB", "80 GiB"}},
		{"small fractions", "", 0.01, 0.07, nil, nil, 3, 0, 0.08, []string{"0.00", "0.02", "0.04", "0.06", "0.08"}},
		{"fixed min only", "W", 120, 280, ptr(0.0), nil, 3, 0, 300, []string{"0 W", "100 W", "200 W", "300 W"}},
		{"huge", "", 1.2e9, 4.7e9, nil, nil, 4, 1e9, 5e9, []string{"1G", "2G", "3G", "4G", "5G"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ticks := yAxis(unitFor(tc.unit), tc.lo, tc.hi, tc.min, tc.max, tc.n)
			if math.Abs(lo-tc.wantLo) > 1e-9*math.Abs(tc.wantHi-tc.wantLo) || math.Abs(hi-tc.wantHi) > 1e-9*math.Abs(tc.wantHi-tc.wantLo) {
				t.Errorf("domain [%g, %g], want [%g, %g]", lo, hi, tc.wantLo, tc.wantHi)
			}
			if got := tickLabels(ticks); !slices.Equal(got, tc.want) {
				t.Errorf("ticks %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct {
		span float64
		n    int
		want float64
	}{{100, 5, 20}, {100, 4, 50}, {7, 5, 2}, {0.3, 3, 0.1}, {3.7e9, 4, 1e9}} {
		if got := niceStep(tc.span, tc.n); math.Abs(got-tc.want) > 1e-12*tc.want {
			t.Errorf("niceStep(%g, %d) = %g, want %g", tc.span, tc.n, got, tc.want)
		}
	}
}
