package scrape

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
)

const (
	omType   = "application/openmetrics-text; version=1.0.0"
	textBase = "# HELP a An a.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 2\n\nb 3\n"
	omBase   = "# HELP a An a.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 2\n# TYPE b counter\nb_total 3\n"
)

// pageReader reads pages into a fake storage without HTTP.
type pageReader struct {
	l  *loop
	st *fakeStorage
	t  int64
}

func newPageReader(tb testing.TB) *pageReader {
	st := newFakeStorage()
	m := NewManager(st, Options{})
	if err := m.ApplyConfig([]config.ScrapeConfig{jobConfig("j", time.Minute, 10*time.Second)}); err != nil {
		tb.Fatal(err)
	}
	l := m.newLoop(targetFor(tb, "j", "http://127.0.0.1:9400"), m.jobs["j"], nil)
	l.init()
	tb.Cleanup(l.cancel)
	return &pageReader{l: l, st: st, t: 1_700_000_000_000}
}

// read reads one page and returns what it stored, one line per sample, and
// the scrape's error.
func (r *pageReader) read(page, contentType string, fast bool) (stored []string, usedFast bool, err error) {
	c := r.l.cache
	if !fast {
		c.layout.valid = false
	}
	c.begin()
	r.t += 15_000
	before := len(r.st.points())
	b := append([]byte(page), 0)[:len(page)] // spare capacity, like a pooled body
	n, err := r.l.read(b, contentType, r.t)
	r.l.write(r.t, time.Time{}, 0, n, err)
	for _, p := range r.st.points()[before:] {
		if name := p.lset.Get("__name__"); strings.HasPrefix(name, "scrape_") {
			continue // durations and counts of new series differ by design
		}
		stored = append(stored, fmt.Sprintf("%s %d %x", p.lset, p.t-r.t, math.Float64bits(p.v)))
	}
	slices.Sort(stored)
	return stored, c.fast, err
}

// FuzzLayoutMatchesTextparse checks the fast path against textparse: after
// a first page, a second page whose first sample line ends in tail (and that
// has an extra line) must give the same samples and the same verdict
// whether read with the remembered layout or by textparse.
func FuzzLayoutMatchesTextparse(f *testing.F) {
	for _, tail := range []string{
		" 1", " 2.5", " -0", " +Inf", " -Inf", " Inf", " NaN", " nan", " 1e3", " 1E-3", " .5", " 5.", " 0x1p3", " 0x10",
		" 1_000", " 1 1000", " 1 -1000", " 1 1.5", " 1 99999999999999999999", "  1", "\t1", " 1 ", " 1\t", " 1 \t 1000 ",
		" 1  1000", "1", "", " ", " 1 # {t=\"x\"} 1", " 1 1000 # {t=\"x\"} 1 2", " 1\r", " 1\x00", " {y=\"1\"} 2",
		" 1 1.7e9", " 1 NaN", " 1 Inf", " 1 1000 1000", " 1e400", " 0.1e-400", " +1", " ++1", " 1.2.3",
	} {
		for _, extra := range []string{"", "c 4", "# comment", "a{x=\"1\"} 5", "\x00", "   "} {
			f.Add(false, tail, extra)
			f.Add(true, tail, extra)
		}
	}
	f.Fuzz(func(t *testing.T, om bool, tail, extra string) {
		if strings.ContainsAny(tail, "\n") || strings.ContainsAny(extra, "\n") {
			return
		}
		base, ctype := textBase, textPlain
		if om {
			base, ctype = omBase, omType
		}
		page := strings.Replace(base, "a{x=\"1\"} 1\n", "a{x=\"1\"}"+tail+"\n", 1)
		if extra != "" {
			page += extra + "\n"
		}
		if om {
			base += "# EOF\n"
			page += "# EOF\n"
		}
		fast, slow := newPageReader(t), newPageReader(t)
		for _, r := range []*pageReader{fast, slow} {
			if _, _, err := r.read(base, ctype, false); err != nil {
				t.Fatalf("base page: %v", err)
			}
		}
		gotFast, usedFast, errFast := fast.read(page, ctype, true)
		gotSlow, _, errSlow := slow.read(page, ctype, false)
		if (errFast == nil) != (errSlow == nil) || !slices.Equal(gotFast, gotSlow) {
			t.Fatalf("page %q (fast path used: %v)\nfast: %v %q\nslow: %v %q", page, usedFast, errFast, gotFast, errSlow, gotSlow)
		}
	})
}

func TestLayoutFastPath(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, page string
	}{
		{"text", textPlain, readFile(t, goldenFile)},
		{"openmetrics", omType, toOpenMetrics(t, readFile(t, goldenFile))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPageReader(t)
			n := goldenSeries(t)
			step := func(page string, wantFast bool, wantSamples int) {
				t.Helper()
				got, fast, err := r.read(page, tc.ctype, true)
				if err != nil || fast != wantFast || len(got) != wantSamples {
					t.Fatalf("fast=%v, %d samples, err %v; want fast=%v, %d samples", fast, len(got), err, wantFast, wantSamples)
				}
			}
			step(tc.page, false, n+1) // first page: textparse (the page's samples and up)
			step(tc.page, true, n+1)  // same layout: values only
			changed := strings.Replace(tc.page, " 0\n", " 42\n", 5)
			step(changed, true, n+1) // values move: still the fast path
			// A changed HELP line goes through textparse and updates metadata.
			help := strings.Replace(tc.page, "Decoder utilization (in %).", "Decoder use.", 1)
			step(help, false, n+1)
			if md := r.st.meta["DCGM_FI_DEV_DEC_UTIL"]; md.Help != "Decoder use." {
				t.Errorf("metadata after the HELP change: %+v", md)
			}
			step(help, true, n+1)
			// The content type is part of the layout.
			if _, fast, _ := r.read(help, tc.ctype+"; charset=utf-8", true); fast {
				t.Error("another content type used the layout")
			}
		})
	}
}
