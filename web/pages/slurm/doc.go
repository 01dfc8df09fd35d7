// Package slurm is the dashboard's Slurm page: partitions and their GPUs,
// nodes by state with the reason a node is down or drained, the queue with
// why each job waits, and the running jobs with their GPUs and how busy
// those GPUs are, all read through PromQL from the head agent's series.
package slurm
