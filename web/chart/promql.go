package chart

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// FromMatrix converts a range-query result into series named by name (nil:
// the labels without __name__, as {gpu="0", host="a"}), sorted by name with
// numbers in natural order (GPU 2 before GPU 10). Stale markers and other
// NaNs become gaps, and so does any hole longer than twice the query step
// (inferred as the smallest spacing in the matrix): a NaN point is inserted
// one step after the last sample before it. Native histogram samples are
// ignored; series with no float samples are dropped.
func FromMatrix(m promql.Matrix, name func(labels.Labels) string) []Series {
	if name == nil {
		name = defaultName
	}
	step := matrixStep(m)
	type named struct {
		s   Series
		lbl labels.Labels
	}
	out := make([]named, 0, len(m))
	for _, ms := range m {
		if len(ms.Floats) == 0 {
			continue
		}
		pts := make([]Point, 0, len(ms.Floats)+4)
		for i, fp := range ms.Floats {
			if i > 0 && step > 0 && fp.T-ms.Floats[i-1].T > 2*step {
				pts = append(pts, Point{T: time.UnixMilli(ms.Floats[i-1].T + step).UTC(), V: math.NaN()})
			}
			v := fp.F
			if math.IsNaN(v) { // includes staleness markers
				v = math.NaN()
			}
			pts = append(pts, Point{T: time.UnixMilli(fp.T).UTC(), V: v})
		}
		out = append(out, named{s: Series{Name: name(ms.Metric), Points: pts}, lbl: ms.Metric})
	}
	slices.SortStableFunc(out, func(a, b named) int {
		if c := naturalCompare(a.s.Name, b.s.Name); c != 0 {
			return c
		}
		return labels.Compare(a.lbl, b.lbl)
	})
	res := make([]Series, len(out))
	for i, n := range out {
		res[i] = n.s
	}
	return res
}

// matrixStep is the smallest positive spacing of samples in m, in ms; 0 when
// no series has two samples.
func matrixStep(m promql.Matrix) int64 {
	var step int64
	for _, s := range m {
		for i := 1; i < len(s.Floats); i++ {
			if d := s.Floats[i].T - s.Floats[i-1].T; d > 0 && (step == 0 || d < step) {
				step = d
			}
		}
	}
	return step
}

func defaultName(l labels.Labels) string {
	n := l.Get(model.MetricNameLabel)
	rest := l.DropReserved(func(name string) bool { return name == model.MetricNameLabel })
	if rest.IsEmpty() {
		return n
	}
	return rest.String()
}

// naturalCompare orders strings with digit runs compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, ea := strconv.ParseUint(a[:da], 10, 64)
			nb, eb := strconv.ParseUint(b[:db], 10, 64)
			if ea == nil && eb == nil && na != nb {
				return cmp.Compare(na, nb)
			}
			if c := cmp.Compare(a[:da], b[:db]); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
