package runpod

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

// Env names the provider writes into pods and reads back.
const (
	EnvRequestID = "GPUWD_REQUEST_ID"
	EnvRole      = "GPUWD_SLURM_ROLE"
)

// podFields is the selection every pod query and mutation asks for.
const podFields = `id name desiredStatus costPerHr gpuCount imageName env lastStatusChange
	machine { gpuTypeId gpuDisplayName }
	runtime { uptimeInSeconds ports { ip isIpPublic privatePort publicPort type } }`

// apiPod is a pod as GraphQL returns it.
type apiPod struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	DesiredStatus    string   `json:"desiredStatus"`
	CostPerHr        float64  `json:"costPerHr"`
	GPUCount         int      `json:"gpuCount"`
	ImageName        string   `json:"imageName"`
	Env              []string `json:"env"` // "K=V"
	LastStatusChange string   `json:"lastStatusChange"`
	Machine          *struct {
		GPUTypeID      string `json:"gpuTypeId"`
		GPUDisplayName string `json:"gpuDisplayName"`
	} `json:"machine"`
	Runtime *apiRuntime `json:"runtime"`
}

// apiRuntime is null until the container runs.
type apiRuntime struct {
	UptimeInSeconds int       `json:"uptimeInSeconds"`
	Ports           []apiPort `json:"ports"`
}

type apiPort struct {
	IP          string `json:"ip"`
	IsIPPublic  bool   `json:"isIpPublic"`
	PrivatePort int    `json:"privatePort"`
	PublicPort  int    `json:"publicPort"`
	Type        string `json:"type"`
}

// toPod maps an API pod; metricsPort is the agent's private port.
func toPod(a apiPod, metricsPort int) provision.Pod {
	env := envMap(a.Env)
	pod := provision.Pod{
		ID:          a.ID,
		Name:        a.Name,
		RequestID:   env[EnvRequestID],
		Status:      status(a),
		GPUCount:    a.GPUCount,
		Role:        provision.Role(env[EnvRole]),
		CostPerHour: a.CostPerHr,
		Message:     a.LastStatusChange,
	}
	if a.Machine != nil {
		pod.GPUType = a.Machine.GPUTypeID
	}
	if pod.Status == provision.StatusRunning {
		pod.Uptime = time.Duration(a.Runtime.UptimeInSeconds) * time.Second
		pod.MetricsURL = metricsURL(a.ID, a.Runtime.Ports, metricsPort)
	}
	return pod
}

// status maps desiredStatus: RUNNING without a runtime is still starting.
func status(a apiPod) provision.Status {
	switch a.DesiredStatus {
	case "RUNNING":
		if a.Runtime == nil {
			return provision.StatusProvisioning
		}
		return provision.StatusRunning
	case "EXITED":
		return provision.StatusExited
	case "TERMINATED":
		return provision.StatusTerminated
	case "DEAD", "ERROR":
		return provision.StatusError
	}
	return provision.StatusProvisioning // CREATED, RESTARTING, …
}

// metricsURL prefers a public tcp mapping of the port, then the HTTP
// proxy; "" while the port is not exposed.
func metricsURL(podID string, ports []apiPort, port int) string {
	proxied := false
	for _, p := range ports {
		if p.PrivatePort != port {
			continue
		}
		if p.Type == "tcp" && p.IsIPPublic && p.IP != "" && p.PublicPort > 0 {
			return "http://" + net.JoinHostPort(p.IP, strconv.Itoa(p.PublicPort)) + "/metrics"
		}
		proxied = proxied || p.Type == "http"
	}
	if proxied {
		return fmt.Sprintf("https://%s-%d.proxy.runpod.net/metrics", podID, port)
	}
	return ""
}

// envMap reads env back from its "K=V" form.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
