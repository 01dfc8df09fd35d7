package provision

import (
	"time"
)

// Stage is how far a launched pod has come.
type Stage string

// A launch moves through these in order; Failed can end it at any stage.
const (
	StageRequested    Stage = "requested"    // recorded, not yet asked of the provider
	StageProvisioning Stage = "provisioning" // the provider has it; not running yet
	StageRunning      Stage = "running"      // the pod runs; its agent has not registered
	StageRegistered   Stage = "registered"   // its agent registered with the aggregator
	StageSlurmIdle    Stage = "slurm-idle"   // its Slurm node is idle: ready for jobs
	StageFailed       Stage = "failed"
)

// Stages lists the stages in order, Failed excepted.
var Stages = []Stage{StageRequested, StageProvisioning, StageRunning, StageRegistered, StageSlurmIdle}

// Done reports whether a launch at s is over: ready, or failed.
func (l Launch) Done() bool {
	return l.Stage == StageFailed || l.Stage == StageSlurmIdle || l.Stage == StageRegistered && l.Spec.Role == RoleNone
}

// Launch is one pod asked for from the dashboard (or the API), and where it
// has got to. Its ID is the RequestID the pod is created with.
type Launch struct {
	ID       string
	Provider string
	Spec     PodSpec
	User     string // who asked
	PodID    string // once the provider has made it
	Node     string // the agent's node name, once registered
	Stage    Stage
	// Error is why it failed, or the last transient error while it goes on.
	Error string
	// Reached is when each stage was reached.
	Reached map[Stage]time.Time
}

// At is when the launch reached s (zero if it has not).
func (l Launch) At(s Stage) time.Time { return l.Reached[s] }
