// Package gpu is where the agent meets NVML: it opens the library without ever
// calling into it after a failed Init (go-nvml kills the process if one does),
// finds the GPUs, and gives each the identity labels every GPU series carries
// (the dcgm-exporter label set, so existing Grafana dashboards work unchanged).
//
// Everything here takes an nvml.Interface: the real library on a GPU node,
// go-nvml's mock servers in tests, and the simulator (package sim) in demos.
package gpu
