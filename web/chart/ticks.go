package chart

import (
	"math"
	"strconv"
	"time"
)

// tick is one labelled position on an axis.
type tick struct {
	v     float64 // value (data units) or unix milliseconds
	label string
}

// niceStep returns the 1-2-5 step that cuts span into at most about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch m := raw / p; {
	case m <= 1:
		return p
	case m <= 2:
		return 2 * p
	case m <= 5:
		return 5 * p
	}
	return 10 * p
}

// yAxis picks the value domain [lo, hi] and its ticks. dataLo/dataHi are the
// finite data extremes; min/max fix an end when not nil. n is the wanted
// number of intervals.
func yAxis(u unitFmt, dataLo, dataHi float64, fixLo, fixHi *float64, n int) (lo, hi float64, ticks []tick) {
	lo, hi = dataLo, dataHi
	if fixLo != nil {
		lo = *fixLo
		hi = max(hi, lo)
	}
	if fixHi != nil {
		hi = *fixHi
		lo = min(lo, hi)
	}
	if hi == lo { // constant: centre the line in a small band
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		if fixLo == nil {
			lo -= d
		}
		if fixHi == nil {
			hi += d
		}
		if hi == lo {
			hi = lo + 1
		}
	}
	pi, div := u.scale(max(math.Abs(lo), math.Abs(hi)))
	slo, shi := lo/div, hi/div
	step := niceStep(shi-slo, n)
	if fixLo == nil {
		slo = math.Floor(slo/step+1e-9) * step
	}
	if fixHi == nil {
		shi = math.Ceil(shi/step-1e-9) * step
	}
	lo, hi = slo*div, shi*div
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	for k := math.Ceil(slo/step - 1e-9); k*step <= shi+step*1e-9; k++ {
		s := k * step
		ticks = append(ticks, tick{v: s * div, label: u.label(fixed(s, dec), pi)})
	}
	return lo, hi, ticks
}

// timeStep is a candidate spacing of time ticks.
type timeStep struct {
	d   time.Duration
	day int // >0: calendar days (7: weeks starting Monday)
}

var timeSteps = []timeStep{
	{d: time.Second}, {d: 2 * time.Second}, {d: 5 * time.Second},
	{d: 10 * time.Second}, {d: 15 * time.Second}, {d: 30 * time.Second},
	{d: time.Minute}, {d: 2 * time.Minute}, {d: 5 * time.Minute},
	{d: 10 * time.Minute}, {d: 15 * time.Minute}, {d: 30 * time.Minute},
	{d: time.Hour}, {d: 2 * time.Hour}, {d: 3 * time.Hour}, {d: 4 * time.Hour},
	{d: 6 * time.Hour}, {d: 12 * time.Hour},
	{d: 24 * time.Hour, day: 1}, {d: 48 * time.Hour, day: 2},
	{d: 7 * 24 * time.Hour, day: 7}, {d: 14 * 24 * time.Hour, day: 14},
	{d: 28 * 24 * time.Hour, day: 28},
}

// pickTimeStep returns the smallest step giving at most n ticks over span.
func pickTimeStep(span time.Duration, n int) timeStep {
	for _, s := range timeSteps {
		if span/s.d <= time.Duration(n) {
			return s
		}
	}
	return timeSteps[len(timeSteps)-1]
}

// timeTicks returns ticks in [start, end] aligned to the wall clock of loc:
// 10-minute steps fall on :00, :10, ...; days at midnight; weeks on Monday.
func timeTicks(start, end time.Time, n int, loc *time.Location) []tick {
	s := pickTimeStep(end.Sub(start), n)
	ls := start.In(loc)
	y, m, d := ls.Date()
	var at func(k int) time.Time
	var k int
	switch {
	case s.day == 0:
		sec := int(s.d / time.Second)
		at = func(k int) time.Time { return time.Date(y, m, d, 0, 0, k*sec, 0, loc) }
		k = (ls.Hour()*3600+ls.Minute()*60+ls.Second())/sec - 1
	default:
		// Align to whole multiples of the step counted in civil days since
		// Monday 1970-01-05, so 2-day and weekly ticks don't move with start.
		civil := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400) - 4
		off := ((civil % s.day) + s.day) % s.day
		at = func(k int) time.Time { return time.Date(y, m, d-off+k*s.day, 0, 0, 0, 0, loc) }
	}
	var out []tick
	var prev time.Time
	for ; ; k++ {
		t := at(k)
		if t.After(end) {
			break
		}
		if t.Before(start) || !t.After(prev) { // before range, or a DST repeat
			continue
		}
		prev = t
		out = append(out, tick{v: float64(t.UnixMilli()), label: timeLabel(t.In(loc), s)})
	}
	return out
}

func timeLabel(t time.Time, s timeStep) string {
	switch {
	case s.day >= 7:
		return t.Format("Jan 2")
	case s.day > 0:
		return t.Format("Mon 2")
	case s.d < time.Minute:
		return t.Format("15:04:05")
	case t.Hour() == 0 && t.Minute() == 0:
		return t.Format("Mon 2")
	}
	return t.Format("15:04")
}

// hoverTimeLayout is the time format of hover texts for a span.
func hoverTimeLayout(span time.Duration) string {
	switch {
	case span <= 10*time.Minute:
		return "15:04:05"
	case span <= 24*time.Hour:
		return "15:04"
	}
	return "Mon 2 15:04"
}

// formatSpan renders a duration for the aria-label: "1h", "24h", "7d", "90m".
func formatSpan(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.Round(time.Second).String()
}
