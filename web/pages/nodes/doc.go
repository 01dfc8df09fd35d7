// Package nodes is the dashboard's GPU wall: one tile per GPU of the
// fleet with its utilisation, memory, temperature and the Slurm job and
// user holding it. GPUs that are allocated but idle, or unhealthy (lost,
// hot, throwing XIDs), stand out; the wall sorts and filters by node,
// model, state and user through the URL, so a view can be shared.
package nodes
