package chart

import (
	"math"
	"strconv"
	"strings"
)

// unitFmt formats values of one unit: number, sep, prefix, suffix, where the
// prefix is prefixes[i] for values scaled by base^i (base 0: no scaling).
type unitFmt struct {
	factor   float64 // data unit → base unit (MiB → bytes: 2^20)
	base     float64 // 1000, 1024, or 0 for no prefixes
	prefixes []string
	sep      string
	suffix   string
}

var (
	siPrefixes     = []string{"", "k", "M", "G", "T", "P", "E"}
	binaryPrefixes = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	// siUnits take SI prefixes themselves: 1.5 kW, 1.41 GHz.
	siUnits = []string{"W", "Wh", "J", "Hz", "V", "A"}
	// binaryUnits are byte units with their factor to bytes.
	binaryUnits = map[string]float64{
		"bytes": 1, "byte": 1, "B": 1,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	}
)

// unitFor returns how values of unit are formatted.
func unitFor(unit string) unitFmt {
	switch unit {
	case "%", "°C", "°F", "℃", "℉":
		return unitFmt{factor: 1, suffix: unit}
	case "":
		return unitFmt{factor: 1, base: 1000, prefixes: siPrefixes}
	}
	perSec := ""
	name := unit
	if n, ok := strings.CutSuffix(unit, "/s"); ok {
		name, perSec = n, "/s"
	}
	if f, ok := binaryUnits[name]; ok {
		return unitFmt{factor: f, base: 1024, prefixes: binaryPrefixes, sep: " ", suffix: perSec}
	}
	for _, u := range siUnits {
		f := 1.0
		rest := name
		for i, p := range siPrefixes[1:] {
			if r, ok := strings.CutPrefix(name, p); ok && r == u {
				f, rest = math.Pow(1000, float64(i+1)), r
				break
			}
		}
		if rest != u {
			continue
		}
		pre := make([]string, len(siPrefixes))
		for i, p := range siPrefixes {
			pre[i] = p + u
		}
		return unitFmt{factor: f, base: 1000, prefixes: pre, sep: " ", suffix: perSec}
	}
	return unitFmt{factor: 1, base: 1000, prefixes: siPrefixes, suffix: " " + unit}
}

// scale returns the prefix index and divisor (in data units) for values of
// magnitude m (data units).
func (u unitFmt) scale(m float64) (int, float64) {
	if u.base == 0 {
		return 0, 1
	}
	m = math.Abs(m) * u.factor
	i, div := 0, 1.0
	for i+1 < len(u.prefixes) && m >= div*u.base {
		i++
		div *= u.base
	}
	return i, div / u.factor
}

// label joins a formatted number with the unit's prefix i.
func (u unitFmt) label(num string, i int) string {
	if u.base == 0 {
		return num + u.suffix
	}
	return num + u.sep + u.prefixes[i] + u.suffix
}

// format renders v with about three significant digits.
func (u unitFmt) format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		if v > 0 {
			return u.label("+Inf", 0)
		}
		return u.label("-Inf", 0)
	}
	i, div := u.scale(v)
	x := v / div
	s := sigDigits(x)
	// Rounding may reach the next prefix: 999.7 → "1000" → "1k".
	if u.base != 0 && i+1 < len(u.prefixes) && math.Abs(parse(s)) >= u.base {
		i++
		x /= u.base
		s = sigDigits(x)
	}
	return u.label(s, i)
}

// FormatValue renders v in unit the way the charts do: about three
// significant digits, humanized (1.5k, 2.3M), bytes in KiB/MiB/GiB (also
// for values given in MiB), SI prefixes for W, Hz, J, V, A (1.41 GHz for
// 1410 with unit "MHz"), and % or °C appended as is.
func FormatValue(v float64, unit string) string {
	return unitFor(unit).format(v)
}

// sigDigits formats x with three significant digits (at most three
// decimals), trailing zeros trimmed.
func sigDigits(x float64) string {
	if x == 0 {
		return "0"
	}
	d := 2 - int(math.Floor(math.Log10(math.Abs(x))))
	d = min(max(d, 0), 3)
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fixed formats x with d decimals, without a negative zero.
func fixed(x float64, d int) string {
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.TrimLeft(s, "-0.") == "" && s[0] == '-' {
		s = s[1:]
	}
	return s
}

func parse(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// appendTenths appends n/10 in the shortest SVG number form: "12", "1.5",
// ".5", "-.5".
func appendTenths(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	if q := n / 10; q != 0 {
		b = strconv.AppendInt(b, q, 10)
	}
	if r := n % 10; r != 0 {
		b = append(b, '.', byte('0'+r))
	} else if n < 10 {
		b = append(b, '0')
	}
	return b
}

// tenths formats n/10 for an attribute value: "12", "1.5", "0.5".
func tenths(n int64) string {
	s := fixed(float64(n)/10, 1)
	return strings.TrimSuffix(s, ".0")
}

// toTenths rounds a coordinate to tenths of a pixel.
func toTenths(x float64) int64 {
	return int64(math.Round(x * 10))
}
