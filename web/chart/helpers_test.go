package chart

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// t0 is a Monday: 2025-06-23 14:00 UTC.
var t0 = time.Date(2025, 6, 23, 14, 0, 0, 0, time.UTC)

// series returns n points from start every step with values f(i).
func series(name string, start time.Time, step time.Duration, n int, f func(i int) float64) Series {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{T: start.Add(time.Duration(i) * step), V: f(i)}
	}
	return Series{Name: name, Points: pts}
}

// wave is a deterministic triangle wave between lo and hi with period p.
func wave(lo, hi float64, p, phase int) func(int) float64 {
	return func(i int) float64 {
		k := (i + phase) % p
		if k > p/2 {
			k = p - k
		}
		return lo + (hi-lo)*float64(k)/float64(p/2)
	}
}

func render(t testing.TB, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// doc parses rendered markup as a person's browser would.
func doc(t testing.TB, s string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// texts returns the text of each node matching sel.
func texts(d *goquery.Document, sel string) []string {
	var out []string
	d.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
	return out
}

// wellFormed fails unless s is well-formed XML.
func wellFormed(t testing.TB, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}
