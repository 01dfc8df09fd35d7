// Package aggregator is gpuwd serve, the fleet's memory: it finds every agent
// (static targets, file_sd, self-registration, RunPod discovery), scrapes them
// as Prometheus does, keeps the history in SQLite and answers PromQL through
// the Prometheus HTTP API. Its parts arrive with their issue; see DESIGN.md.
package aggregator
