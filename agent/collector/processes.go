package collector

import (
	"sort"
	"strconv"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
)

// Off by default: one series per process can be many, and inside a container
// NVML reports host PIDs, which match nothing in the container's /proc. Use
// gpuwd_gpu_job_info (Slurm's allocation) to say who uses a GPU.
func init() { register("processes", false, newProcesses) }

var (
	processCountDesc = gpuDesc("gpuwd_gpu_processes", "Compute processes running on the GPU.")
	processMemDesc   = gpuDesc("gpuwd_process_fb_used_bytes",
		"GPU memory used by a compute process. pid is the host's PID, as NVML reports it.", "pid", "process_name")
)

// valueNotAvailable is NVML's NVML_VALUE_NOT_AVAILABLE for a process whose
// memory the driver cannot tell (e.g. under some virtualisation).
const valueNotAvailable = ^uint64(0)

type processes struct {
	lib  nvml.Interface
	gpus []*gpu.GPU
}

func newProcesses(d Deps) (Collector, error) { return &processes{lib: d.Lib, gpus: d.GPUs}, nil }

func (c *processes) Update(ch chan<- prometheus.Metric) error {
	return eachGPU(c.gpus, func(g *gpu.GPU) error {
		r := newReader(g, ch)
		procs, ret := g.Device.GetComputeRunningProcesses()
		if !r.ok("compute processes", ret) {
			return r.err()
		}
		used := map[uint32]uint64{} // a PID can appear once per MIG instance
		for _, p := range procs {
			if p.UsedGpuMemory != valueNotAvailable {
				used[p.Pid] += p.UsedGpuMemory
			} else if _, ok := used[p.Pid]; !ok {
				used[p.Pid] = 0
			}
		}
		r.gauge(processCountDesc, float64(len(used)))
		pids := make([]uint32, 0, len(used))
		for pid := range used {
			pids = append(pids, pid)
		}
		sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
		for _, pid := range pids {
			name, ret := c.lib.SystemGetProcessName(int(pid))
			if ret != nvml.SUCCESS {
				name = ""
			}
			r.gauge(processMemDesc, float64(used[pid]), strconv.FormatUint(uint64(pid), 10), name)
		}
		return r.err()
	})
}
