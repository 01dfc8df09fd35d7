package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// nodeClasses are the slurm_nodes_* series. A node is counted in exactly
// one, by the first prefix of its sinfo StateLong that matches, in this
// order (vpenso's, with SckyzO's inval and other):
//
//	alloc  allocated, allocated+ (completing), allocated$ …
//	comp   completing
//	down   down, down* (not responding), down$ …
//	drain  drained, draining, drained* …   (both drained and draining)
//	fail   fail, failing
//	err    error
//	idle   idle, idle~ (powered down), idle* (not responding), idle# …
//	maint  maint, maint*
//	mix    mixed, mixed- (planned), mixed$ …
//	resv   reserved, resv
//	plnd   planned
//	inval  inval (registered with a configuration Slurm rejected)
//	other  anything else: future, unknown, reboot^, perfctrs, blocked, …
var nodeClasses = []struct{ prefix, class string }{
	{"alloc", "alloc"}, {"comp", "comp"}, {"down", "down"}, {"drain", "drain"},
	{"fail", "fail"}, {"err", "err"}, {"idle", "idle"}, {"maint", "maint"},
	{"mix", "mix"}, {"reserved", "resv"}, {"resv", "resv"}, {"plan", "plnd"},
	{"inval", "inval"},
}

// nodeClass returns the slurm_nodes_* series a node counts in.
func nodeClass(state string) string {
	for _, c := range nodeClasses {
		if strings.HasPrefix(state, c.prefix) {
			return c.class
		}
	}
	return "other"
}

// takesJobs says whether a node in state can start jobs now, so that its
// free GPUs count as idle: its base state is idle, mixed, allocated,
// completing or planned, it is responding (no '*'), and it is not drained,
// down, failed, invalid, reserved or in maintenance (maint, or a '$'
// suffix). Powered-down nodes (idle~) count: Slurm powers them up for a job.
func takesJobs(state string) bool {
	if strings.ContainsAny(state, "*$") {
		return false
	}
	base := strings.TrimRight(state, "$^@#%~!*-+")
	switch base {
	case "idle", "mixed", "allocated", "completing", "planned":
		return true
	}
	return false
}

// nodeGPUs splits a node's GPUs into those jobs hold, those free for jobs,
// and the rest (free on a node that takes no jobs).
func nodeGPUs(n parse.Node) (alloc, idle, other int) {
	alloc = min(n.GPUsUsed, n.GPUs)
	if takesJobs(n.State) {
		idle = n.GPUs - alloc
	}
	return alloc, idle, n.GPUs - alloc - idle
}

var nodesDescs = func() map[string]*prometheus.Desc {
	help := map[string]string{
		"alloc": "Allocated nodes", "comp": "Completing nodes", "down": "Down nodes",
		"drain": "Drain nodes (drained or draining)", "err": "Error nodes", "fail": "Fail nodes",
		"idle": "Idle nodes", "maint": "Maint nodes", "mix": "Mix nodes", "resv": "Reserved nodes",
		"plnd": "Planned nodes", "inval": "Invalid nodes", "other": "Nodes in any other state (future, unknown, reboot, …)",
	}
	m := map[string]*prometheus.Desc{}
	for class, h := range help {
		m[class] = clusterDescs.gauge("slurm_nodes_"+class, h+"; each node counted once.")
	}
	return m
}()

var (
	nodesTotalDesc = clusterDescs.gauge("slurm_nodes_total", "Nodes in the cluster, each counted once.")

	cpusAllocDesc = clusterDescs.gauge("slurm_cpus_alloc", "Allocated CPUs.")
	cpusIdleDesc  = clusterDescs.gauge("slurm_cpus_idle", "Idle CPUs.")
	cpusOtherDesc = clusterDescs.gauge("slurm_cpus_other", "CPUs neither allocated nor idle (on down, drained, … nodes).")
	cpusTotalDesc = clusterDescs.gauge("slurm_cpus_total", "CPUs in the cluster.")

	gpusAllocDesc = clusterDescs.gauge("slurm_gpus_alloc", "GPUs allocated to jobs.")
	gpusIdleDesc  = clusterDescs.gauge("slurm_gpus_idle", "Free GPUs on nodes that take jobs (idle, mixed, allocated, completing; responding, not drained).")
	gpusOtherDesc = clusterDescs.gauge("slurm_gpus_other", "Free GPUs on nodes that take no jobs (down, drained, failed, invalid, reserved, maint, not responding).")
	gpusTotalDesc = clusterDescs.gauge("slurm_gpus_total", "GPUs in the cluster.")
	gpusUtilDesc  = clusterDescs.gauge("slurm_gpus_utilization", "Allocated GPUs / total GPUs (0 without GPUs).")

	nodeStatusDesc   = clusterDescs.gauge("slurm_node_status", "A node's state (sinfo's long form, e.g. mixed, drained*, idle~) and the reason it is down or drained (always 1).", "node", "status", "reason")
	nodeCPUAllocDesc = clusterDescs.gauge("slurm_node_cpu_alloc", "Allocated CPUs per node.", "node", "status")
	nodeCPUIdleDesc  = clusterDescs.gauge("slurm_node_cpu_idle", "Idle CPUs per node.", "node", "status")
	nodeCPUOtherDesc = clusterDescs.gauge("slurm_node_cpu_other", "Other CPUs per node (neither allocated nor idle).", "node", "status")
	nodeCPUTotalDesc = clusterDescs.gauge("slurm_node_cpu_total", "CPUs per node.", "node", "status")
	nodeMemAllocDesc = clusterDescs.gauge("slurm_node_mem_alloc", "Allocated memory per node, in MB.", "node", "status")
	nodeMemTotalDesc = clusterDescs.gauge("slurm_node_mem_total", "Memory per node (RealMemory), in MB.", "node", "status")
	nodeGPUAllocDesc = clusterDescs.gauge("slurm_node_gpu_alloc", "GPUs allocated to jobs per node, all types.", "node", "status")
	nodeGPUTotalDesc = clusterDescs.gauge("slurm_node_gpu_total", "GPUs per node, all types.", "node", "status")
)

// addNodes adds the cluster-wide node, CPU and GPU series and the per-node
// ones.
func addNodes(b *batch, nodes []parse.Node) {
	classes := map[string]int{}
	var cpus parse.CPUs
	var gAlloc, gIdle, gOther int
	for _, n := range nodes {
		classes[nodeClass(n.State)]++
		cpus.Add(n.CPUs)
		a, i, o := nodeGPUs(n)
		gAlloc, gIdle, gOther = gAlloc+a, gIdle+i, gOther+o

		b.add(nodeStatusDesc, 1, n.Name, n.State, n.Reason)
		b.add(nodeCPUAllocDesc, float64(n.CPUs.Alloc), n.Name, n.State)
		b.add(nodeCPUIdleDesc, float64(n.CPUs.Idle), n.Name, n.State)
		b.add(nodeCPUOtherDesc, float64(n.CPUs.Other), n.Name, n.State)
		b.add(nodeCPUTotalDesc, float64(n.CPUs.Total), n.Name, n.State)
		b.add(nodeMemAllocDesc, float64(n.MemAlloc), n.Name, n.State)
		b.add(nodeMemTotalDesc, float64(n.MemTotal), n.Name, n.State)
		b.add(nodeGPUAllocDesc, float64(a), n.Name, n.State)
		b.add(nodeGPUTotalDesc, float64(n.GPUs), n.Name, n.State)
	}
	for class, d := range nodesDescs {
		b.add(d, float64(classes[class]))
	}
	b.add(nodesTotalDesc, float64(len(nodes)))
	b.add(cpusAllocDesc, float64(cpus.Alloc))
	b.add(cpusIdleDesc, float64(cpus.Idle))
	b.add(cpusOtherDesc, float64(cpus.Other))
	b.add(cpusTotalDesc, float64(cpus.Total))
	total := gAlloc + gIdle + gOther
	b.add(gpusAllocDesc, float64(gAlloc))
	b.add(gpusIdleDesc, float64(gIdle))
	b.add(gpusOtherDesc, float64(gOther))
	b.add(gpusTotalDesc, float64(total))
	util := 0.0
	if total > 0 {
		util = float64(gAlloc) / float64(total)
	}
	b.add(gpusUtilDesc, util)
}
