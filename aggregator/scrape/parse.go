package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
)

// fallbackContentType parses pages without a (known) Content-Type.
const fallbackContentType = "text/plain"

// parse reads one page. Samples of known series go to c.samples with their
// reference; new series go to c.pending (their samples get a reference in
// resolve). t is the scrape's timestamp, used where the exposition gives
// none. scraped counts every sample on the page, kept those not ignored
// (native histograms, which are not stored). Over the sample limit the page
// is still counted to the end, but nothing more is kept.
func (c *cache) parse(b []byte, contentType string, t int64, limit int, tl labels.Labels, honor bool) (scraped, kept int, err error) {
	if n, ok := c.parseFast(b, contentType, t, limit); ok {
		c.fast = true
		return n, n, nil
	}
	c.begin() // start over: the fast path may have marked series as seen
	p, err := textparse.New(b, contentType, c.symbols, textparse.ParserOptions{
		FallbackContentType:    fallbackContentType,
		IgnoreNativeHistograms: true,
	})
	if p == nil { // with a fallback, only an unparseable Content-Type gets here
		return 0, 0, failure(resultParse, fmt.Errorf("parse: %w", err))
	}
	switch p.(type) {
	case *textparse.PromParser:
		c.parsedAs = formatText
	case *textparse.OpenMetricsParser:
		c.parsedAs = formatOpenMetrics
	default:
		c.parsedAs = formatOther
	}
	var last []byte // the latest entry's text, to say which line an error is on
	for {
		et, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return scraped, kept, parseError(b, last, err)
		}
		switch et {
		case textparse.EntryType:
			name, typ := p.Type()
			c.meta.setType(name, typ, c.iter)
			last = name
			continue
		case textparse.EntryHelp:
			name, help := p.Help()
			c.meta.setHelp(name, help, c.iter)
			last = name
			continue
		case textparse.EntryUnit:
			name, unit := p.Unit()
			c.meta.setUnit(name, unit, c.iter)
			last = name
			continue
		case textparse.EntryComment:
			last = p.Comment()
			continue
		case textparse.EntryHistogram:
			last, _, _, _ = p.Histogram()
			scraped++
			continue
		}
		met, tp, v := p.Series()
		last = met
		scraped++
		if scraped > limit {
			continue
		}
		kept++
		ts := t
		if tp != nil {
			ts = *tp
		}
		if e := c.raw[string(met)]; e != nil {
			c.order = append(c.order, keyRef{entry: e})
			c.hit(e, ts, v, tp != nil)
			continue
		}
		p.Labels(&c.lset)
		lset := sampleLabels(c.lb, c.lset, tl, honor)
		if err := checkSeries(lset); err != nil {
			return scraped, kept, failure(resultParse, fmt.Errorf("parse: %w", err))
		}
		c.order = append(c.order, keyRef{pending: len(c.pending)})
		c.pending = append(c.pending, pendingSeries{
			raw:   met,
			lset:  lset,
			idx:   len(c.samples),
			hasTS: tp != nil,
		})
		c.samples = append(c.samples, store.Sample{T: ts, V: v})
	}
	if scraped > limit {
		return scraped, kept, failure(resultSampleLimit,
			fmt.Errorf("sample limit exceeded (%d samples, limit %d)", scraped, limit))
	}
	return scraped, kept, nil
}

func parseError(b, last []byte, err error) error {
	if n := errorLine(b, last); n > 0 {
		return failure(resultParse, fmt.Errorf("parse: line %d: %w", n, err))
	}
	return failure(resultParse, fmt.Errorf("parse: %w", err))
}

// errorLine is the line of b an error was found on: the first non-blank line
// after the one holding last, the text of the last good entry (a slice of b,
// as the text parsers return), or the first non-blank line if there was
// none. 0 when last is not inside b.
func errorLine(b, last []byte) int {
	start := 0
	if last != nil {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		at := uintptr(unsafe.Pointer(unsafe.SliceData(last)))
		if at < base || at >= base+uintptr(len(b)) {
			return 0
		}
		off := int(at - base)
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return bytes.Count(b, []byte{'\n'}) + 1 // the last line
		}
		start = off + nl + 1
	}
	for start < len(b) && b[start] == '\n' {
		start++
	}
	return bytes.Count(b[:start], []byte{'\n'}) + 1
}
