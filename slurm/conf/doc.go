// Package conf writes the Slurm configuration a gpuwd-agent head serves to
// its workers (configless: slurm.conf, gres.conf, cgroup.conf), and works out
// what a node offers Slurm: its GPUs, memory, CPUs and features, and whether
// its cgroup layout lets slurmd start at all.
//
// Pods are containers: no systemd, often cgroup v2 only, no cgroup control
// and GPU device files numbered as on the host. Everything here is chosen so
// that one configuration fits every pod of a fleet:
//   - processes are tracked without cgroups (proctrack/linuxproc, task/none);
//   - gres.conf names node-local links, not /dev/nvidiaN: each agent links its
//     GPUs' device files into GresDir in NVML index order and points the
//     unused slots at /dev/null, so the single line "File=GresDir/gpu[0-15]"
//     is right on a node with 1, 3 or 8 GPUs (slurmd counts only the
//     Gres=gpu:N the node registers with) and GRES index i is NVML GPU i;
//   - the GPU model is a node feature (--constraint=h100), not a GRES type,
//     because a typed GRES would need a gres.conf line per model.
//
// Everything here is a pure function of its inputs except Detect*, which read
// /proc and /sys; the generated files are checked against testdata/*.golden.
package conf
