package discovery

import (
	"slices"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// SourceProvisioned is the source of pods a provider lists (followed by the
// provider's name): scraped before, or without, their agent registering.
const SourceProvisioned = "provisioned:"

// Pod is a running pod a provider knows, and where its agent serves
// metrics.
type Pod struct {
	Provider   string
	ID         string
	Name       string
	MetricsURL string
}

// SetProvisioned replaces the provisioned pods. Each becomes a target of
// the registration job, unless an agent registered with its pod id (the
// agent knows its address best) or another source has the same target.
func (m *Manager) SetProvisioned(pods []Pod) {
	pods = slices.Clone(pods)
	m.mu.Lock()
	same := slices.Equal(m.provisioned, pods)
	m.provisioned = pods
	m.mu.Unlock()
	if !same {
		m.changed()
	}
}

// provisionedTargets are the pods whose agents have not registered.
func (m *Manager) provisionedTargets(pods []Pod, agents []Agent) []target.Target {
	registered := map[string]bool{}
	for _, a := range agents {
		if a.PodID != "" {
			registered[a.PodID] = true
		}
	}
	job := m.reg.settingsNow().job
	var out []target.Target
	for _, p := range pods {
		if registered[p.ID] || p.MetricsURL == "" {
			continue
		}
		t, err := target.FromURL(job, p.MetricsURL)
		if err != nil {
			m.log.Warn("provisioned pod has a bad metrics URL", "provider", p.Provider, "pod", p.ID, "url", p.MetricsURL, "err", err)
			continue
		}
		t.Meta = map[string]string{"gpuwd_pod_id": p.ID, "gpuwd_provider": p.Provider}
		if p.Name != "" {
			t.Meta["gpuwd_pod_name"] = p.Name
		}
		t.Source = SourceProvisioned + p.Provider
		out = append(out, t)
	}
	return out
}
