package ruletest

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// labelsAndAnnotations is an alert as the tests see it.
type labelsAndAnnotations struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func (la labelsAndAnnotations) String() string {
	return "Labels:" + la.Labels.String() + "\nAnnotations:" + la.Annotations.String()
}

// alertList is a set of alerts, sorted for comparison and printed as
// promtool prints them.
type alertList []labelsAndAnnotations

func (l alertList) sort() {
	slices.SortFunc(l, func(a, b labelsAndAnnotations) int {
		if c := labels.Compare(a.Labels, b.Labels); c != 0 {
			return c
		}
		return labels.Compare(a.Annotations, b.Annotations)
	})
}

func (l alertList) equal(o alertList) bool {
	return slices.EqualFunc(l, o, func(a, b labelsAndAnnotations) bool {
		return labels.Equal(a.Labels, b.Labels) && labels.Equal(a.Annotations, b.Annotations)
	})
}

func (l alertList) String() string {
	if len(l) == 0 {
		return "[]"
	}
	var s strings.Builder
	s.WriteString("[\n0:" + indentLines("\n"+l[0].String(), "  "))
	for i, a := range l[1:] {
		s.WriteString(",\n" + strconv.Itoa(i+1) + ":" + indentLines("\n"+a.String(), "  "))
	}
	s.WriteString("\n]")
	return s.String()
}

// sampleWithLabels is one sample of a PromQL result. Histogram results
// never equal an expected sample, since expected histograms are refused.
type sampleWithLabels struct {
	Labels    labels.Labels
	Value     float64
	Histogram bool
}

func (s sampleWithLabels) String() string {
	if s.Histogram {
		return s.Labels.String() + " <native histogram>"
	}
	return s.Labels.String() + " " + strconv.FormatFloat(s.Value, 'E', -1, 64)
}

func sortSamples(ss []sampleWithLabels) {
	slices.SortStableFunc(ss, func(a, b sampleWithLabels) int { return labels.Compare(a.Labels, b.Labels) })
}

// samplesEqual compares values exactly (NaN never equals, as in promtool)
// or, fuzzy, ignoring a difference in the last bit of the mantissa.
func samplesEqual(a, b []sampleWithLabels, fuzzy bool) bool {
	return slices.EqualFunc(a, b, func(x, y sampleWithLabels) bool {
		if !labels.Equal(x.Labels, y.Labels) || x.Histogram || y.Histogram {
			return false
		}
		return x.Value == y.Value || fuzzy &&
			(math.Nextafter(x.Value, math.Inf(-1)) == y.Value || math.Nextafter(x.Value, math.Inf(1)) == y.Value)
	})
}

func samplesString(ss []sampleWithLabels) string {
	if len(ss) == 0 {
		return "nil"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// indentLines prefixes every line but the first with indent.
func indentLines(lines, indent string) string {
	return strings.ReplaceAll(lines, "\n", "\n"+indent)
}
