package provision

import (
	"strconv"
)

// Join is what a new pod needs to join the fleet: where the aggregator is,
// and, for Slurm, the head and the cluster's munge key.
type Join struct {
	// AggregatorURL is the aggregator as pods reach it.
	AggregatorURL string
	// RegistrationToken lets the agent register (GPUWD_TOKEN). A RunPod
	// secret reference, {{ RUNPOD_SECRET_name }}, keeps it out of the pod's
	// definition.
	RegistrationToken string
	// MetricsToken, when set, is required on the agent's /metrics
	// (RunPod's HTTP proxy is public).
	MetricsToken string
	// ConfServer is the Slurm head workers join (configless).
	ConfServer string
	// MungeKey is the cluster's key, or a RunPod secret reference to it.
	MungeKey string
}

// AgentEnv is the environment gpuwd-agent starts with on a pod of role r.
// The agent reads each GPUWD_* variable as the flag of the same name.
func (j Join) AgentEnv(r Role, requestID string) map[string]string {
	env := map[string]string{RequestIDEnv: requestID, "GPUWD_LISTEN": ":" + strconv.Itoa(MetricsPort)}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	set("GPUWD_AGGREGATOR_URL", j.AggregatorURL)
	set("GPUWD_TOKEN", j.RegistrationToken)
	set("GPUWD_METRICS_TOKEN", j.MetricsToken)
	if r != RoleNone {
		set("GPUWD_SLURM_ROLE", string(r))
		set("GPUWD_MUNGE_KEY", j.MungeKey)
	}
	if r == RoleWorker {
		set("GPUWD_SLURM_CONF_SERVER", j.ConfServer)
	}
	return env
}

// RequestIDEnv tags a pod with the launch it belongs to, so a retried
// create finds the pod instead of making another.
const RequestIDEnv = "GPUWD_REQUEST_ID"

// MetricsPort is the agent's port on a pod (exposed as 9400/http).
const MetricsPort = 9400
