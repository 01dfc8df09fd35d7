package discovery

import (
	"testing"
)

// Pods a provider lists are scraped as targets of the registration job
// until their agents register: then the agent's own address wins.
func TestProvisionedPodsAreTargetsUntilTheirAgentsRegister(t *testing.T) {
	h := newHarness(t, regConfig, "", Options{})
	h.m.SetProvisioned([]Pod{
		{Provider: "runpod", ID: "pod-1", Name: "train-1", MetricsURL: "https://pod-1-9400.proxy.runpod.net/metrics"},
		{Provider: "runpod", ID: "pod-2", Name: "train-2", MetricsURL: "http://203.0.113.9:41234/metrics"},
		{Provider: "runpod", ID: "pod-3", Name: "starting"}, // no address yet
		{Provider: "runpod", ID: "pod-4", MetricsURL: "ftp://bad"},
	})
	ts := h.m.Targets()
	if len(ts) != 2 {
		t.Fatalf("targets: %+v", ts)
	}
	byPod := map[string]string{}
	for _, tg := range ts {
		if tg.Job != "gpuwd-agent" || tg.Source != "provisioned:runpod" || tg.Meta["gpuwd_provider"] != "runpod" {
			t.Errorf("target %+v", tg)
		}
		byPod[tg.Meta["gpuwd_pod_id"]] = tg.URL()
	}
	if byPod["pod-1"] != "https://pod-1-9400.proxy.runpod.net:443/metrics" || byPod["pod-2"] != "http://203.0.113.9:41234/metrics" {
		t.Errorf("addresses: %v", byPod)
	}
	if got := h.metric(t, "gpuwd_sd_targets", "source", "provisioned"); got != 2 {
		t.Errorf("gpuwd_sd_targets{source=provisioned} = %v", got)
	}

	// pod-1's agent registers (agentReqFmt says pod_id pod-1), at another
	// address: its registration replaces the provider's guess.
	if rec, _ := h.call(t, "POST", "/api/v1/agents/register", testToken, registerBody(agentURL, "1.0")); rec.Code != 200 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	ts = h.m.Targets()
	if len(ts) != 2 {
		t.Fatalf("after registering: %+v", ts)
	}
	for _, tg := range ts {
		if tg.Meta["gpuwd_pod_id"] == "pod-1" && (tg.Source != "registered" || tg.URL() != agentURL) {
			t.Errorf("pod-1 is %+v, want its registered agent", tg)
		}
	}

	h.m.SetProvisioned(nil)
	if ts := h.m.Targets(); len(ts) != 1 || ts[0].Source != "registered" {
		t.Errorf("after the pods went: %+v", ts)
	}
}
