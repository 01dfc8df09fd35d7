package scrape

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/prometheus/prometheus/model/value"
)

// An agent's page keeps its layout from one scrape to the next: the same
// comment lines and the same series in the same order; only the values move.
// After textparse has accepted a page, its layout is remembered. When the
// next page has exactly that layout (every comment line byte for byte, every
// sample line starting with the series text textparse read there) only the
// values and timestamps are read, following the lexer's grammar for them
// exactly. Anything else, including a value textparse would reject, sends
// the whole page through textparse again. So the fast path accepts a page
// only if textparse would, and reads the same samples from it; it just skips
// re-lexing text already known to be valid.

// format is the exposition format a page was parsed as.
type format uint8

const (
	formatOther format = iota // protobuf or unknown: no layout
	formatText
	formatOpenMetrics
)

// layoutLine is one line of a remembered page: a sample line of a known
// series, or a line compared whole (comments, metadata, blank lines, # EOF).
type layoutLine struct {
	entry    *rawEntry
	from, to int // the whole line, in layout.text
}

// layout is the last page textparse accepted, by line.
type layout struct {
	valid       bool
	format      format
	contentType string
	lines       []layoutLine
	text        []byte // the whole lines, back to back
	meta        []*metaEntry
}

// keyRef is a series line met by the slow parse: a known spelling, or the
// index of a pending one.
type keyRef struct {
	entry   *rawEntry
	pending int
}

func (k keyRef) resolve(c *cache) *rawEntry {
	if k.entry != nil {
		return k.entry
	}
	return c.pending[k.pending].entry
}

// nextLine returns the line starting at pos (without its newline) and where
// the next one starts.
func nextLine(b []byte, pos int) ([]byte, int) {
	if nl := bytes.IndexByte(b[pos:], '\n'); nl >= 0 {
		return b[pos : pos+nl], pos + nl + 1
	}
	return b[pos:], len(b)
}

// wholeLine reports whether a line is matched whole rather than as a sample:
// comments and, in the text format (where the parser skips them), lines of
// blanks.
func wholeLine(line []byte, f format) bool {
	if len(line) > 0 && line[0] == '#' {
		return true
	}
	return f == formatText && len(bytes.Trim(line, " \t")) == 0
}

// recordLayout remembers the page just parsed (and resolved) by textparse.
func (c *cache) recordLayout(b []byte, contentType string) {
	lay := &c.layout
	lay.valid = false
	if c.parsedAs == formatOther {
		return
	}
	lay.lines, lay.text, lay.meta = lay.lines[:0], lay.text[:0], lay.meta[:0]
	k := 0
	for pos := 0; pos < len(b); {
		line, next := nextLine(b, pos)
		pos = next
		if wholeLine(line, c.parsedAs) {
			from := len(lay.text)
			lay.text = append(lay.text, line...)
			lay.lines = append(lay.lines, layoutLine{from: from, to: len(lay.text)})
			continue
		}
		if k == len(c.order) {
			return // a line textparse did not read as a sample
		}
		e := c.order[k].resolve(c)
		k++
		if e == nil || !strings.HasPrefix(yoloString(line), e.key) {
			return
		}
		lay.lines = append(lay.lines, layoutLine{entry: e})
	}
	if k != len(c.order) {
		return
	}
	for _, e := range c.meta.families {
		if e.iter == c.iter {
			lay.meta = append(lay.meta, e)
		}
	}
	lay.format, lay.contentType, lay.valid = c.parsedAs, contentType, true
}

// parseFast reads a page with the remembered layout, as parse would. false
// means the page must go through textparse (whatever was read is void).
func (c *cache) parseFast(b []byte, contentType string, t int64, limit int) (scraped int, ok bool) {
	lay := &c.layout
	if !lay.valid || contentType != lay.contentType {
		return 0, false
	}
	pos := 0
	for i := range lay.lines {
		if pos == len(b) {
			return 0, false
		}
		line, next := nextLine(b, pos)
		pos = next
		l := &lay.lines[i]
		if l.entry == nil {
			if !bytes.Equal(line, lay.text[l.from:l.to]) {
				return 0, false
			}
			continue
		}
		key := l.entry.key
		if len(line) <= len(key) || yoloString(line[:len(key)]) != key {
			return 0, false
		}
		var v float64
		var ts int64
		var hasTS, ok bool
		if lay.format == formatText {
			v, ts, hasTS, ok = textValue(line[len(key):])
		} else {
			v, ts, hasTS, ok = openMetricsValue(line[len(key):])
		}
		scraped++
		if !ok || scraped > limit {
			return 0, false
		}
		if !hasTS {
			ts = t
		}
		c.hit(l.entry, ts, v, hasTS)
	}
	if pos != len(b) {
		return 0, false
	}
	for _, e := range lay.meta {
		if e.iter != c.iter {
			e.iter = c.iter
			c.meta.touched++
		}
	}
	return scraped, true
}

// textValue reads what follows the series in a text-format sample line:
// blanks, a value, and optionally blanks and a timestamp in milliseconds,
// then optional blanks. (The lexer: value [^{ \t\n]+, timestamp [0-9]+.)
func textValue(rest []byte) (v float64, ts int64, hasTS, ok bool) {
	i := skipBlanks(rest, 0)
	if i == 0 {
		return 0, 0, false, false // the lexer allows none after '}'; rare, leave it to textparse
	}
	j := i
	for j < len(rest) && rest[j] != ' ' && rest[j] != '\t' && rest[j] != '{' {
		j++
	}
	if j == i || (j < len(rest) && rest[j] == '{') {
		return 0, 0, false, false
	}
	v, ok = sampleValue(rest[i:j])
	if !ok {
		return 0, 0, false, false
	}
	k := skipBlanks(rest, j)
	if k == len(rest) {
		return v, 0, false, true
	}
	m := k
	for m < len(rest) && rest[m] >= '0' && rest[m] <= '9' {
		m++
	}
	if m == k || skipBlanks(rest, m) != len(rest) {
		return 0, 0, false, false
	}
	ts, err := strconv.ParseInt(yoloString(rest[k:m]), 10, 64)
	if err != nil {
		return 0, 0, false, false
	}
	return v, ts, true, true
}

// openMetricsValue reads what follows the series in an OpenMetrics sample
// line: a space and a value, optionally a space and a timestamp in seconds.
// Exemplars are left to textparse.
func openMetricsValue(rest []byte) (v float64, ts int64, hasTS, ok bool) {
	if len(rest) < 2 || rest[0] != ' ' {
		return 0, 0, false, false
	}
	rest = rest[1:]
	val, tsText, hasTS := bytes.Cut(rest, []byte{' '})
	if len(val) == 0 || (hasTS && (len(tsText) == 0 || bytes.IndexByte(tsText, ' ') >= 0 || tsText[0] == '#')) {
		return 0, 0, false, false
	}
	v, ok = sampleValue(val)
	if !ok || !hasTS {
		return v, 0, false, ok
	}
	sec, err := textparseFloat(tsText)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
		return 0, 0, false, false
	}
	return v, int64(sec * 1000), true, true
}

// sampleValue parses a value as textparse does, NaN made canonical.
func sampleValue(b []byte) (float64, bool) {
	v, err := textparseFloat(b)
	if err != nil {
		return 0, false
	}
	if math.IsNaN(v) {
		v = math.Float64frombits(value.NormalNaN)
	}
	return v, true
}

// textparseFloat is textparse's parseFloat: Go's, without hex floats or
// underscores.
func textparseFloat(b []byte) (float64, error) {
	s := yoloString(b)
	if strings.ContainsAny(s, "pP_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// yoloString views bytes as a string without copying; the string must not
// outlive the bytes.
func yoloString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
