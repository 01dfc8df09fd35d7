// Package provision adds and removes GPU capacity: it launches pods on a
// cloud (or on this machine), follows each launch until its agent has
// registered and its Slurm node is idle, stops or terminates pods on
// request, and stops pods whose GPUs idle too long.
//
// A Provider is one place pods come from: RunPod through its GraphQL API
// (package runpod) or agent processes on this machine (package local), so
// the demo and the tests provision for real without a cloud. Providers only
// talk to their cloud; what a pod must run to join the fleet (the agent's
// environment) and what happens after it starts live here, the same for
// every provider.
package provision
