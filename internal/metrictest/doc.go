// Package metrictest reads one value out of a parsed /metrics page, for
// tests that check what a real agent or gpuwd exposes.
package metrictest
