// Package aggregator is gpuwd serve, the fleet's memory: it finds every agent
// (static targets, file_sd, self-registration), scrapes them as Prometheus
// does, keeps the history in SQLite and answers PromQL through the
// Prometheus HTTP API, so Grafana and promtool work against it unchanged.
// This package wires the parts, each in its own subpackage: config,
// discovery, scrape, store (with chunk, its compression), api and
// remotewrite.
package aggregator
