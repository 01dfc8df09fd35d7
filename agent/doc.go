// Package agent is gpuwd-agent, the program on every GPU node: it samples
// the GPUs through NVML in the background, keeps the latest readings as an
// immutable snapshot, and serves that snapshot as Prometheus metrics on :9400
// together with health and inventory endpoints.
//
// A scrape never waits on NVML: it renders the snapshot the sampler made, so
// it costs microseconds however slow the driver is. Without NVML (no driver,
// a CPU-only box) the agent still starts and says so in gpuwd_nvml_up.
package agent
