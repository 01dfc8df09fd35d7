package overview

import (
	"math"
	"strconv"
)

// text is a tile's value as a person reads it: counts whole, money with
// cents, percentages and watts rounded; "–" when there is no data (a
// count of nothing is 0).
func (t tile) text() string {
	if !t.OK {
		if t.Unit == "" {
			return "0"
		}
		return "–"
	}
	v := t.Value
	switch t.Unit {
	case "$":
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	case "%":
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " %"
	case "W":
		if v >= 10000 {
			return strconv.FormatFloat(math.Round(v/100)/10, 'f', -1, 64) + " kW"
		}
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + " W"
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
}
