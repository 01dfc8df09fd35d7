package config

import (
	"strings"
	"testing"
)

func TestProvisionSectionIsChecked(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{"provision: {runpod: {image: 'ghcr.io/acme/gpuwd-agent:1', api_key_file: key}, local: {}, join: {aggregator_url: 'https://gpuwd.example.com'}}", ""},
		{"provision: {runpod: {api_key_file: key}}", "runpod.image"},
		{"provision: {join: {aggregator_url: 'gpuwd:9300'}}", "want an http(s) URL"},
		{"provision: {join: {munge_key: abc, munge_key_file: k}}", "both set"},
		{"provision: {idle_policies: [{name: a}]}", "field idle_policies not found"},
	} {
		c, err := Parse([]byte(tc.yaml), "/etc/gpuwd")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.err == "" && (c.Provision.RunPod.APIKeyFile != "/etc/gpuwd/key" || c.Provision.Local == nil):
			t.Errorf("%s: %+v", tc.yaml, c.Provision)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.yaml, err, tc.err)
		}
	}
}
