// Package collector reads the GPUs through NVML, one file per signal
// (utilisation, memory, power, XID, …), in the manner of node_exporter's
// collectors. Each collector turns NVML readings into Prometheus metrics under
// the dcgm-exporter names, or gpuwd_ names for what dcgm-exporter lacks.
//
// Collectors run on the agent's sampler, never on a scrape: Set.Collect is
// called once per sampling cycle and its output becomes the immutable snapshot
// that /metrics serves. One failing collector sets its
// gpuwd_collector_success to 0 and the others go on; a field the GPU does not
// support (ERROR_NOT_SUPPORTED) is simply absent.
package collector
