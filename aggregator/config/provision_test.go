package config

import (
	"strings"
	"testing"
	"time"
)

func TestProvisionSectionIsChecked(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{"provision: {runpod: {image: 'ghcr.io/acme/gpuwd-agent:1', api_key_file: key}, local: {}, join: {aggregator_url: 'https://gpuwd.example.com'}}", ""},
		{"provision: {runpod: {api_key_file: key}}", "runpod.image"},
		{"provision: {join: {aggregator_url: 'gpuwd:9300'}}", "want an http(s) URL"},
		{"provision: {join: {munge_key: abc, munge_key_file: k}}", "both set"},
		{"provision: {idle_policies: [{name: a}]}", "no provider is configured"},
		{"provision: {local: {}, idle_policies: [{name: a, provider: runpod}]}", "provider runpod is not configured"},
		{"provision: {local: {}, idle_policies: [{name: a, provider: aws}]}", `provider "aws": want runpod or local`},
		{"provision: {local: {}, idle_policies: [{name: a}, {name: a}]}", `name "a" is used twice`},
		{"provision: {local: {}, idle_policies: [{name: a, below_percent: 120}]}", "below_percent 120"},
		{"provision: {local: {}, idle_policies: [{name: a, for: -1m}]}", "for"},
		{"provision: {local: {}, idle_policies: [{name: a, action: reboot}]}", `action "reboot": want stop or terminate`},
		{"provision: {local: {}, idle_policies: [{name: a, labels: {idle_policy: x}}]}", `label "idle_policy" is set by gpuwd`},
		{"provision: {local: {}, idle_policies: [{name: a, for: 1x}]}", "for"},
	} {
		c, err := Parse([]byte(tc.yaml), "/etc/gpuwd")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.err == "" && c.Provision.RunPod != nil && (c.Provision.RunPod.APIKeyFile != "/etc/gpuwd/key" || c.Provision.Local == nil):
			t.Errorf("%s: %+v", tc.yaml, c.Provision)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.yaml, err, tc.err)
		}
	}
}

func TestIdlePolicyDefaults(t *testing.T) {
	c, err := Parse([]byte(`provision:
  local: {}
  idle_policies:
    - {name: quiet, provider: local, gpu_type: h100}
    - {name: strict, below_percent: 2, for: 1h, grace: 0s, action: terminate, dry_run: false, labels: {team: ml}}
`), "/etc/gpuwd")
	if err != nil {
		t.Fatal(err)
	}
	ps := c.Provision.Policies()
	if got := ps[0]; got.BelowPercent != 5 || got.For != 30*time.Minute || got.Grace != 10*time.Minute || got.Action != "stop" || !got.DryRun || got.GPUType != "h100" {
		t.Errorf("defaults: %+v", got)
	}
	if got := ps[1]; got.BelowPercent != 2 || got.For != time.Hour || got.Grace != 0 || got.Action != "terminate" || got.DryRun || got.Labels["team"] != "ml" {
		t.Errorf("set: %+v", got)
	}
}
