// Package loadtest puts one gpuwd serve under the load of a fleet and
// measures what a user would feel: N simulated gpuwd-agents (up to 1,000 ×
// 8 GPUs, real agent servers in this process, each on its own loopback
// port) are scraped by the real gpuwd binary for a fixed time while a
// Grafana-like user queries it and a person opens dashboard pages. The
// report has scrape success, scrape lag, ingestion rate, the aggregator's
// CPU and RSS, query latency and page render time under that load.
//
// It exists because benchmarks of the parts (BENCHMARKS.md) cannot show
// how they behave together: scrapes, commits, rule evaluation, compaction
// and queries share one process and its two cores. Everything is bounded
// (agents, GPUs, duration), listens on 127.0.0.1 only, and stops by itself;
// `make loadtest` runs it (cmd/gpuwd-loadtest).
package loadtest
