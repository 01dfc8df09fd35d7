package nodes

import (
	"math"
	"strconv"
)

func pct(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + " %" }

func gib(mib float64) string {
	return strconv.FormatFloat(math.Round(mib/1024*10)/10, 'f', -1, 64)
}

// memText is "31.5 / 79.6 GiB".
func (g GPU) memText() string {
	if !g.HasMem {
		return "–"
	}
	return gib(g.MemUsed) + " / " + gib(g.MemTotal) + " GiB"
}

func (g GPU) utilText() string {
	if !g.HasUtil {
		return "–"
	}
	return pct(g.Util)
}

func (g GPU) tempText() string {
	if !g.HasTemp {
		return "–"
	}
	return strconv.FormatFloat(math.Round(g.Temp), 'f', -1, 64) + " °C"
}

// why says what makes an unhealthy GPU unhealthy.
func (g GPU) why() string {
	switch {
	case g.Lost:
		return "fell off the bus"
	case g.XIDs > 0:
		return strconv.FormatFloat(math.Round(g.XIDs), 'f', -1, 64) + " XID errors in 15 min"
	case g.HasTemp && g.Temp >= hotCelsius:
		return "hot"
	case g.State == StateIdleAllocated:
		return "allocated, idle for 30 min"
	}
	return ""
}

// utilWidth is the utilisation bar's width class, in steps of 10 %, so
// the page needs no inline style (the CSP forbids it).
func (g GPU) utilWidth() string {
	return "w" + strconv.Itoa(int(math.Round(math.Max(0, math.Min(100, g.Util))/10))*10)
}
