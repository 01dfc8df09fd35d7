// Package slurmsim is a simulated Slurm cluster for agents that simulate
// their GPUs (gpuwd-agent --simulate): the demo, and dashboards and rules
// tried without a cluster. It exists so that the simulated fleet shows
// Slurm's side too (who holds which GPU, the queue, drained nodes) through
// the very collectors a real cluster uses.
//
// The cluster is a pure function of wall-clock time, its node list and a
// seed: each node's GPUs are split into blocks, and each block runs one job
// after another on a timetable drawn from the seed. Every agent that is
// given the same list and seed computes the same jobs at the same moment,
// without talking to the others: the head exports the cluster's series,
// every compute node the jobs on its own GPUs, and the simulated GPUs work
// when, and as hard as, their job does, including jobs that hold GPUs and
// do nothing.
//
// Runner answers the Slurm commands of package collector (sinfo, squeue,
// scontrol, sdiag) with text in the formats package parse reads, so that
// the series come out of collector.Cluster and collector.GPUJobs unchanged:
// same names, labels and types as on a real cluster. Exporter adds the
// node's own gpuwd_slurm_* series that package slurm exports for a real
// node.
package slurmsim
