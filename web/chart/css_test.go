package chart

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var colorVar = regexp.MustCompile(`--chart-(\d): (#[0-9a-f]{6});`)

// palettes returns the --chart-N colours of each rule block, in order.
func palettes(t *testing.T, css string) [][]string {
	t.Helper()
	var out [][]string
	for _, block := range strings.Split(css, "}") {
		m := colorVar.FindAllStringSubmatch(block, -1)
		if len(m) == 0 {
			continue
		}
		var p []string
		for i, c := range m {
			if c[1] != strconv.Itoa(i) {
				t.Fatalf("palette out of order: %q", m)
			}
			p = append(p, c[2])
		}
		out = append(out, p)
	}
	return out
}

func TestCSSThemes(t *testing.T) {
	for _, s := range []string{
		"@media (prefers-color-scheme: dark)", "[data-theme=dark] .chart", "[data-theme=light] .chart",
		".chart-axis", ".chart-grid",
	} {
		if !strings.Contains(CSS, s) {
			t.Errorf("chart.css lacks %q", s)
		}
	}
	for i := range Palette {
		if s := fmt.Sprintf(".chart-series-%d { color: var(--chart-%d); }", i, i); !strings.Contains(CSS, s) {
			t.Errorf("chart.css lacks %q", s)
		}
	}
	// Colours appear only as palette values: text, axes and grid use
	// currentColor.
	for _, ln := range strings.Split(CSS, "\n") {
		if strings.Contains(ln, "#") && !colorVar.MatchString(ln) {
			t.Errorf("hard-coded colour outside the palette: %q", ln)
		}
	}
	p := palettes(t, CSS)
	if len(p) != 3 || len(p[0]) != Palette || strings.Join(p[1], " ") != strings.Join(p[2], " ") {
		t.Fatalf("want a light palette and two equal dark ones of %d colours, got %q", Palette, p)
	}
	// Lines must stand out from the background (WCAG non-text contrast 3:1)
	// on white and on a GitHub-dark background.
	for i, c := range p[0] {
		if r := contrast(c, "#ffffff"); r < 3 {
			t.Errorf("light --chart-%d %s: contrast %.2f on white", i, c, r)
		}
	}
	for i, c := range p[1] {
		if r := contrast(c, "#0d1117"); r < 3 {
			t.Errorf("dark --chart-%d %s: contrast %.2f on #0d1117", i, c, r)
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		n, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		x := float64(n) / 255
		if x <= 0.03928 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}
