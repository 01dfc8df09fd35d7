// Package collector turns Slurm's state into Prometheus metrics, in the
// background: Update runs Slurm's client commands through a Runner, parses
// their output with package parse and keeps the result as an immutable set
// of const metrics; Collect only sends that set, so a scrape never waits on
// slurmctld. A failed Update (a command fails, or prints what cannot be
// parsed) leaves nothing to collect until one succeeds: stale numbers would
// look like a healthy cluster, and the caller exports gpuwd_slurm_up 0.
//
// Cluster is the head's view of the whole cluster, under the names of the
// common Slurm exporters (vpenso/prometheus-slurm-exporter and
// SckyzO/slurm_exporter), so that their dashboards work unchanged. Unlike
// vpenso's, every series is emitted even when it is 0, and a node is counted
// once however many partitions it is in. Per node GPUs are
// slurm_node_gpu_{alloc,total}{node,status} (a vpenso fork's name) rather
// than SckyzO's slurm_node_gres_{total,used}{node,status,partition,gres_type}:
// one series per node with the same labels as slurm_node_cpu_* and
// slurm_node_mem_*, so that they divide without on(); the GPU model is on
// the agent's own GPU series. slurm_node_status{node,status,reason} names
// the state label status, as SckyzO's slurm_node_status and every
// slurm_node_* series do, so that they join on (node, status).
//
// GPUJobs runs on every compute node and says which Slurm job holds which of
// the node's GPUs (gpuwd_gpu_job_info), keyed like the agent's GPU series
// (gpu, UUID, hostname) so that the two join in PromQL.
package collector
