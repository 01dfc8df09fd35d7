package chart

import (
	"time"
)

// Point is one sample. A NaN value is a gap: the line breaks there.
type Point struct {
	T time.Time
	V float64
}

// Series is one line of a chart, in time order.
type Series struct {
	Name   string
	Points []Point
}

// Chart describes a time-series chart. Only Series is required; the zero
// values of the other fields pick sensible defaults.
type Chart struct {
	// Title is drawn above the plot and starts the aria-label.
	Title string
	// Unit of the values: "%", "°C", "W", "MHz", "MiB", "bytes", ... or any
	// other text, which is appended to humanized numbers (1.5k req/s).
	Unit   string
	Series []Series
	// Start and End bound the time axis; zero values take the data's extent.
	Start, End time.Time
	// Min and Max fix the value axis (e.g. 0–100 %); nil fits the data.
	// Values outside a fixed range are clamped to its edge.
	Min, Max *float64
	// Width and Height of the SVG viewBox, in pixels (default 720×240). The
	// CSS in chart.css lets the SVG scale to its container.
	Width, Height int
	// Empty is shown instead of the plot when no series has a finite value
	// in range (default "No data").
	Empty string
	// Location for the time axis and hover texts (default UTC).
	Location *time.Location
}

// Spark describes a sparkline: a small axis-less trend line for a tile.
type Spark struct {
	// Label names the trend for the aria-label and hover title.
	Label  string
	Unit   string
	Points []Point
	// Min and Max fix the value range; nil fits the data.
	Min, Max *float64
	// Width and Height of the viewBox (default 120×32).
	Width, Height int
	// Color is the palette index (0..7) of the line.
	Color int
}

// Palette is the number of series colours (classes chart-series-0..7) in
// chart.css; series beyond it reuse the colours in turn.
const Palette = 8

const (
	defaultWidth       = 720
	defaultHeight      = 240
	defaultSparkWidth  = 120
	defaultSparkHeight = 32
	defaultEmpty       = "No data"

	// legendMax is how many series the legend names before "+N more".
	legendMax = 8
	// hoverPerSeries caps the hover targets of one series; hoverTotal is
	// shared among the series (but each keeps at least hoverMin), so 8
	// series of 7 days stay small.
	hoverPerSeries = 200
	hoverTotal     = 480
	hoverMin       = 24
	// bucketPx sets the downsampling: the time range is cut into
	// Width/bucketPx buckets, each keeping its min and max, so a series
	// draws at most Width points: under two per pixel of the plot.
	bucketPx = 2
)
