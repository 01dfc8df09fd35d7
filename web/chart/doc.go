// Package chart draws the dashboard's time-series charts and sparklines on the
// server as inline SVG, so that pages need no JavaScript charting library and
// stay readable with scripts off. It owns the geometry (nice 1-2-5 value
// ticks with unit prefixes, calendar-aligned time ticks, min/max downsampling
// to the pixel, thinned hover targets, gaps where data is missing) and emits
// compact, deterministic markup through templ components; colours come from
// the classes and custom properties in chart.css, so light and dark themes
// need no re-render. Inputs are plain Series of Points, independent of
// Prometheus; FromMatrix converts a PromQL range-query result.
package chart
