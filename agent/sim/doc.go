// Package sim is a simulated NVML for machines without GPUs: the demo, tests
// and load tests. Library implements nvml.Interface (and its devices
// nvml.Device) with readings that move like a busy fleet: jobs start and end,
// utilisation comes in bursts, memory fills with a job, temperature and power
// follow load, energy adds up, and an XID or a GPU falling off the bus happens
// on demand. The agent's collectors read it exactly as they read real NVML
// and never know the difference. Jobs are the simulator's own, or, with a
// Schedule, someone else's: a simulated Slurm cluster's (package slurmsim),
// so that a GPU works exactly while the job Slurm shows on it does.
//
// The fakes embed the nvml interfaces and implement only the calls the agent
// makes; unlike go-nvml's generated mocks they record nothing, so a demo can
// run for days without growing.
package sim
