// Package node is the dashboard's page for one node: each GPU's history
// (utilisation, memory, temperature, power, clocks, throttle reasons) over
// 1 h, 6 h, 24 h or 7 d as server-rendered charts, the XID and ECC events
// of that span, the Slurm jobs on its GPUs, and the health of its agent
// and Slurm daemons.
package node
