package collector

import (
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

var (
	partCPUsAllocDesc = clusterDescs.gauge("slurm_partition_cpus_allocated", "Allocated CPUs per partition.", "partition")
	partCPUsIdleDesc  = clusterDescs.gauge("slurm_partition_cpus_idle", "Idle CPUs per partition.", "partition")
	partCPUsOtherDesc = clusterDescs.gauge("slurm_partition_cpus_other", "Other CPUs per partition (neither allocated nor idle).", "partition")
	partCPUsTotalDesc = clusterDescs.gauge("slurm_partition_cpus_total", "CPUs per partition.", "partition")
	partJobsPendDesc  = clusterDescs.gauge("slurm_partition_jobs_pending", "Pending jobs per partition; a job pending in several partitions counts in each.", "partition")
	partGPUsAllocDesc = clusterDescs.gauge("slurm_partition_gpus_allocated", "GPUs allocated to jobs per partition.", "partition")
	partGPUsIdleDesc  = clusterDescs.gauge("slurm_partition_gpus_idle", "Free GPUs on the partition's nodes that take jobs.", "partition")
	partGPUsTotalDesc = clusterDescs.gauge("slurm_partition_gpus_total", "GPUs per partition.", "partition")
	partNodesDesc     = clusterDescs.gauge("slurm_partition_nodes_total", "Nodes per partition.", "partition")
)

// partStats are one partition's numbers.
type partStats struct {
	cpus                  parse.CPUs
	gAlloc, gIdle, gTotal int
	nodes, pending        int
}

// addPartitions adds the per-partition series for every partition scontrol
// lists, with or without nodes, and any other that a node or a pending job
// names.
func addPartitions(b *batch, parts []parse.Partition, nodes []parse.Node, jobs []parse.Job) {
	stats := map[string]*partStats{}
	get := func(name string) *partStats {
		s := stats[name]
		if s == nil {
			s = &partStats{}
			stats[name] = s
		}
		return s
	}
	for _, p := range parts {
		get(p.Name)
	}
	for _, n := range nodes {
		a, i, _ := nodeGPUs(n)
		for _, p := range n.Partitions {
			s := get(p)
			s.cpus.Add(n.CPUs)
			s.gAlloc, s.gIdle, s.gTotal = s.gAlloc+a, s.gIdle+i, s.gTotal+n.GPUs
			s.nodes++
		}
	}
	for _, j := range jobs {
		if j.State != "PENDING" {
			continue
		}
		for p := range strings.SplitSeq(j.Partition, ",") {
			if p != "" {
				get(p).pending++
			}
		}
	}
	for name, s := range stats {
		b.add(partCPUsAllocDesc, float64(s.cpus.Alloc), name)
		b.add(partCPUsIdleDesc, float64(s.cpus.Idle), name)
		b.add(partCPUsOtherDesc, float64(s.cpus.Other), name)
		b.add(partCPUsTotalDesc, float64(s.cpus.Total), name)
		b.add(partJobsPendDesc, float64(s.pending), name)
		b.add(partGPUsAllocDesc, float64(s.gAlloc), name)
		b.add(partGPUsIdleDesc, float64(s.gIdle), name)
		b.add(partGPUsTotalDesc, float64(s.gTotal), name)
		b.add(partNodesDesc, float64(s.nodes), name)
	}
}
