// Package nodens makes machines out of namespaces: each node is a network
// namespace on a bridge of its own, with its own hostname and mount
// namespace, in which the per-node directories Slurm and the agent use
// (/run/munge, /run/slurm, /run/gpuwd, /var/lib/gpuwd) are private. So
// several agents on one host behave like pods: each runs its own munged and
// slurmd on the usual ports and paths. The local provisioning provider runs
// its pods this way, and slurm/slurmtest its test clusters. It needs root,
// ip(8), nsenter, unshare and mount.
package nodens
