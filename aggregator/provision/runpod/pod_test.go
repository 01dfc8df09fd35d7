package runpod

import (
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

func TestToPod(t *testing.T) {
	t.Parallel()
	running := &apiRuntime{UptimeInSeconds: 90, Ports: []apiPort{{IP: "100.65.0.2", PrivatePort: 9400, PublicPort: 60001, Type: "http"}}}
	for _, tc := range []struct {
		name    string
		in      apiPod
		status  provision.Status
		metrics string
	}{
		{"starting", apiPod{ID: "p1", DesiredStatus: "RUNNING"}, provision.StatusProvisioning, ""},
		{"running", apiPod{ID: "p1", DesiredStatus: "RUNNING", Runtime: running}, provision.StatusRunning, "https://p1-9400.proxy.runpod.net/metrics"},
		{"exited", apiPod{ID: "p1", DesiredStatus: "EXITED", Runtime: running}, provision.StatusExited, ""},
		{"terminated", apiPod{ID: "p1", DesiredStatus: "TERMINATED"}, provision.StatusTerminated, ""},
		{"dead", apiPod{ID: "p1", DesiredStatus: "DEAD"}, provision.StatusError, ""},
		{"created", apiPod{ID: "p1", DesiredStatus: "CREATED"}, provision.StatusProvisioning, ""},
	} {
		got := toPod(tc.in, 9400)
		if got.Status != tc.status || got.MetricsURL != tc.metrics {
			t.Errorf("%s: status %s, metrics %q; want %s, %q", tc.name, got.Status, got.MetricsURL, tc.status, tc.metrics)
		}
	}
	got := toPod(apiPod{ID: "p1", DesiredStatus: "RUNNING", Runtime: running, CostPerHr: 1.5,
		Env: []string{"GPUWD_REQUEST_ID=r=1", "GPUWD_SLURM_ROLE=head", "BROKEN"}}, 9400)
	if got.RequestID != "r=1" || got.Role != provision.RoleHead || got.Uptime != 90*time.Second || got.CostPerHour != 1.5 {
		t.Errorf("got %+v", got)
	}
}

func TestMetricsURL(t *testing.T) {
	t.Parallel()
	httpPort := apiPort{IP: "100.65.0.2", PrivatePort: 9400, PublicPort: 60001, Type: "http"}
	publicTCP := apiPort{IP: "203.0.113.9", IsIPPublic: true, PrivatePort: 9400, PublicPort: 41234, Type: "tcp"}
	privateTCP := apiPort{IP: "10.0.0.9", PrivatePort: 9400, PublicPort: 41234, Type: "tcp"}
	otherPort := apiPort{IP: "203.0.113.9", IsIPPublic: true, PrivatePort: 22, PublicPort: 40022, Type: "tcp"}
	for _, tc := range []struct {
		name  string
		ports []apiPort
		want  string
	}{
		{"none", nil, ""},
		{"proxy", []apiPort{httpPort}, "https://p1-9400.proxy.runpod.net/metrics"},
		{"public tcp preferred", []apiPort{httpPort, publicTCP}, "http://203.0.113.9:41234/metrics"},
		{"private tcp ignored", []apiPort{privateTCP}, ""},
		{"other port ignored", []apiPort{otherPort}, ""},
	} {
		if got := metricsURL("p1", tc.ports, 9400); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestToOffer(t *testing.T) {
	t.Parallel()
	if _, ok := toOffer(apiGPUType{ID: "unknown", SecureCloud: true}); ok {
		t.Error("the unknown type is offered")
	}
	if _, ok := toOffer(apiGPUType{ID: "X"}); ok {
		t.Error("a type in no cloud is offered")
	}
	o, _ := toOffer(apiGPUType{ID: "X", CommunityCloud: true, SecurePrice: 9,
		LowestPrice: &struct {
			UninterruptablePrice float64 `json:"uninterruptablePrice"`
		}{0.5}})
	if o.SecurePrice != 0 || o.CommunityPrice != 0.5 || o.DisplayName != "X" {
		t.Errorf("got %+v, want the lowest price as community price", o)
	}
}
