package chart

import _ "embed"

// CSS is the stylesheet the charts need (chart.css): the series palette for
// light and dark themes and the classes chart-axis, chart-grid,
// chart-series-0..7. Serve it with, or inline it into, the dashboard's CSS.
//
//go:embed chart.css
var CSS string
