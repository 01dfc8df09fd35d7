// Package slurm is the agent's Slurm side: configless bootstrap of a head or
// a dynamic worker, supervision of munged, slurmctld and slurmd, cluster
// metrics, and which Slurm job holds which GPU. It is the only package, with
// the local provisioner, that runs external commands. Its parts arrive with
// their issue; see DESIGN.md.
package slurm
