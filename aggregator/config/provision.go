package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/idle"
)

// Provision is where GPU pods can be launched from, and what they need to
// join the fleet. Without a provider the
// dashboard's provisioning page says how to configure one.
type Provision struct {
	Join   ProvisionJoin `yaml:"join"`
	RunPod *RunPod       `yaml:"runpod"`
	Local  *LocalPods    `yaml:"local"`
	// IdlePolicies stop or terminate pods whose GPUs sat idle.
	IdlePolicies []IdlePolicy `yaml:"idle_policies"`
}

// IdlePolicy is one pool's idle rule (see package idle). Left out:
// below_percent 5, for 30m, grace 10m, action stop, dry_run true: a
// policy only says what it would do until dry_run: false.
type IdlePolicy struct {
	Name         string            `yaml:"name"`
	Provider     string            `yaml:"provider"` // runpod or local; left out: both
	GPUType      string            `yaml:"gpu_type"` // as the provider names it; left out: every type
	BelowPercent float64           `yaml:"below_percent"`
	For          model.Duration    `yaml:"for"`
	Grace        *model.Duration   `yaml:"grace"`
	Action       string            `yaml:"action"`
	DryRun       *bool             `yaml:"dry_run"`
	Labels       map[string]string `yaml:"labels"` // added to its alerts, for routing
}

// Policies are the idle policies with their defaults filled in.
func (p *Provision) Policies() []idle.Policy {
	out := make([]idle.Policy, 0, len(p.IdlePolicies))
	for _, c := range p.IdlePolicies {
		ip := idle.Policy{Name: c.Name, Provider: c.Provider, GPUType: c.GPUType, BelowPercent: c.BelowPercent,
			For: time.Duration(c.For), Grace: idle.DefaultGrace, Action: idle.Action(c.Action), DryRun: true, Labels: c.Labels}
		if ip.BelowPercent == 0 {
			ip.BelowPercent = idle.DefaultBelowPercent
		}
		if ip.For == 0 {
			ip.For = idle.DefaultFor
		}
		if c.Grace != nil {
			ip.Grace = time.Duration(*c.Grace)
		}
		if ip.Action == "" {
			ip.Action = idle.Stop
		}
		if c.DryRun != nil {
			ip.DryRun = *c.DryRun
		}
		out = append(out, ip)
	}
	return out
}

// ProvisionJoin is what a launched pod's agent is started with. Secrets may
// be RunPod secret references, {{ RUNPOD_SECRET_name }}, which RunPod
// fills in on the pod: the value then never passes through gpuwd.
type ProvisionJoin struct {
	// AggregatorURL is this server as pods reach it (default: --external-url).
	AggregatorURL string `yaml:"aggregator_url"`
	// RegistrationToken is what agents register with (default: the
	// registration section's token).
	RegistrationToken Secret `yaml:"registration_token"`
	// MetricsToken, when set, guards the agents' /metrics (RunPod's HTTP
	// proxy is public); scrape with the same token.
	MetricsToken Secret `yaml:"metrics_token"`
	// SlurmConfServer is the Slurm head that workers join.
	SlurmConfServer string `yaml:"slurm_conf_server"`
	// MungeKey or MungeKeyFile: the cluster's munge key (base64), as
	// gpuwd-agent --slurm-role head prints it.
	MungeKey     Secret `yaml:"munge_key"`
	MungeKeyFile string `yaml:"munge_key_file"`
}

// RunPod launches pods through RunPod's GraphQL API.
type RunPod struct {
	// APIKeyFile holds the API key (default: $RUNPOD_API_KEY).
	APIKeyFile string `yaml:"api_key_file"`
	// URL of the GraphQL API (default https://api.runpod.io/graphql).
	URL string `yaml:"url"`
	// Image is the agent's image (see runpod-template/).
	Image           string `yaml:"image"`
	ContainerDiskGB int    `yaml:"container_disk_gb"`
	// RequestTimeout bounds each API request (default 30s); a create that
	// times out is looked up before it is tried again.
	RequestTimeout model.Duration `yaml:"request_timeout"`
	VolumeGB       int            `yaml:"volume_gb"`
}

// LocalPods launches simulated agents on this machine: for the demo, and to
// try provisioning without a cloud.
type LocalPods struct {
	// AgentBinary is gpuwd-agent (default: next to gpuwd, then $PATH).
	AgentBinary string `yaml:"agent_binary"`
	// Dir keeps the pods' state (default: <data dir>/local-pods).
	Dir string `yaml:"dir"`
	// Namespaces runs each pod in its own network namespace, so Slurm
	// workers join for real (needs root and Slurm).
	Namespaces bool `yaml:"namespaces"`
}

func (p *Provision) complete(dir string) error {
	if u := p.Join.AggregatorURL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
			return fmt.Errorf("join.aggregator_url %q: want an http(s) URL", u)
		}
	}
	if p.Join.MungeKey != "" && p.Join.MungeKeyFile != "" {
		return errors.New("join: munge_key and munge_key_file are both set; use one")
	}
	p.Join.MungeKeyFile = resolve(dir, p.Join.MungeKeyFile)
	if p.RunPod != nil {
		if p.RunPod.Image == "" {
			return errors.New("runpod.image: name the agent's image")
		}
		p.RunPod.APIKeyFile = resolve(dir, p.RunPod.APIKeyFile)
	}
	if p.Local != nil {
		p.Local.Dir = resolve(dir, p.Local.Dir)
		p.Local.AgentBinary = resolve(dir, p.Local.AgentBinary)
	}
	for i, ip := range p.IdlePolicies {
		switch {
		case ip.Provider == "runpod" && p.RunPod == nil, ip.Provider == "local" && p.Local == nil:
			return fmt.Errorf("idle_policies[%d] (%s): provider %s is not configured", i, ip.Name, ip.Provider)
		case ip.Provider != "" && ip.Provider != "runpod" && ip.Provider != "local":
			return fmt.Errorf("idle_policies[%d] (%s): provider %q: want runpod or local", i, ip.Name, ip.Provider)
		}
	}
	if len(p.IdlePolicies) > 0 && p.RunPod == nil && p.Local == nil {
		return errors.New("idle_policies: no provider is configured (runpod or local)")
	}
	return idle.Check(p.Policies())
}

// LoadMungeKey returns the munge key, read from its file at each call.
func (j *ProvisionJoin) LoadMungeKey() (Secret, error) { return readSecret(j.MungeKey, j.MungeKeyFile) }
