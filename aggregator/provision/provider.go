package provision

import (
	"context"
	"errors"
	"time"
)

// Provider is a source of GPU pods. Its methods talk to the provider's API
// and may be retried: Create with a RequestID it has seen returns that pod
// instead of making a second one.
type Provider interface {
	// Name identifies the provider in the dashboard, the config and the
	// metrics ("runpod", "local").
	Name() string
	// Offers lists the GPU types a pod can be launched with, and prices.
	Offers(ctx context.Context) ([]Offer, error)
	// Create launches a pod and returns at once, usually before it runs.
	Create(ctx context.Context, spec PodSpec) (Pod, error)
	// Get returns one pod, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Pod, error)
	// List returns every pod the provider's account has, terminated ones
	// excepted.
	List(ctx context.Context) ([]Pod, error)
	// Stop releases a pod's GPUs and keeps its volume (billed while
	// stopped); Resume starts it again; Terminate removes it for good.
	Stop(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	Terminate(ctx context.Context, id string) error
}

// ErrNotFound is wrapped by Get, Stop, Resume and Terminate when the pod
// does not exist (any more).
var ErrNotFound = errors.New("no such pod")

// Offer is a GPU type and what it costs per GPU and hour, in USD.
type Offer struct {
	GPUType     string // the provider's id, as PodSpec.GPUType takes it
	DisplayName string // what people call it: "H100 SXM"
	MemoryGB    int    // per GPU
	// Prices per GPU-hour; 0 where the cloud type does not offer it.
	SecurePrice, CommunityPrice float64
	MaxGPUs                     int // the most GPUs one pod may have (0: unknown)
}

// Price is the offer's price per GPU-hour in cloud c (ALL: the cheaper).
func (o Offer) Price(c Cloud) float64 {
	switch c {
	case CloudSecure:
		return o.SecurePrice
	case CloudCommunity:
		return o.CommunityPrice
	}
	if o.CommunityPrice > 0 && (o.SecurePrice == 0 || o.CommunityPrice < o.SecurePrice) {
		return o.CommunityPrice
	}
	return o.SecurePrice
}

// Cloud is RunPod's cloud type: secure data centres, community hosts, or
// whichever has the GPUs.
type Cloud string

const (
	CloudAll       Cloud = "ALL"
	CloudSecure    Cloud = "SECURE"
	CloudCommunity Cloud = "COMMUNITY"
)

// Role is what a pod becomes in the Slurm cluster.
type Role string

const (
	RoleNone   Role = ""       // an agent only, outside Slurm
	RoleHead   Role = "head"   // slurmctld, and a compute node
	RoleWorker Role = "worker" // slurmd joining the head (configless)
)

// PodSpec is what to launch.
type PodSpec struct {
	// RequestID is unique per pod asked for. Providers tag the pod with it
	// so a retried Create finds the pod instead of making another.
	RequestID string
	Name      string
	GPUType   string
	GPUCount  int
	Cloud     Cloud
	Role      Role
	// Image is the container image (RunPod); local ignores it.
	Image string
	// ConfServer is the Slurm head a worker joins; "" takes Join's.
	ConfServer string
	// Env is the agent's environment: GPUWD_* settings (see AgentEnv).
	// Values may reference RunPod secrets: {{ RUNPOD_SECRET_name }}.
	Env map[string]string
}

// Status is where a pod is in its life, as the provider reports it.
type Status string

const (
	StatusProvisioning Status = "PROVISIONING" // asked for; not running yet
	StatusRunning      Status = "RUNNING"
	StatusExited       Status = "EXITED" // stopped: no GPUs, volume kept
	StatusTerminated   Status = "TERMINATED"
	StatusError        Status = "ERROR"
)

// Pod is one pod as the provider sees it.
type Pod struct {
	ID        string
	Name      string
	RequestID string // PodSpec.RequestID it was created with ("" if unknown)
	Status    Status
	GPUType   string
	GPUCount  int
	Cloud     Cloud
	Role      Role
	// CostPerHour is what the pod costs now in USD per hour (0 when
	// stopped, but for its volume).
	CostPerHour float64
	CreatedAt   time.Time
	// Uptime is how long it has been running since its last start.
	Uptime time.Duration
	// MetricsURL is where its agent's /metrics can be scraped, once the
	// provider knows (running, with its port exposed).
	MetricsURL string
	// Address is the host other pods reach this one at (a Slurm head's
	// slurmctld), when the provider knows one.
	Address string
	// Message is the provider's last word on the pod: why it failed.
	Message string
}
