package runpod

import (
	"context"
	"errors"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/runpod/runpodtest"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, runpodtest.Options{ManualStart: true})

	pod := f.create(t, "req-1")
	if pod.ID == "" || pod.Status != provision.StatusProvisioning || pod.RequestID != "req-1" {
		t.Fatalf("created %+v, want a provisioning pod for req-1", pod)
	}
	if pod.MetricsURL != "" {
		t.Errorf("MetricsURL before start = %q, want none", pod.MetricsURL)
	}

	if err := f.fake.Start(pod.ID); err != nil {
		t.Fatal(err)
	}
	got := f.get(t, pod.ID)
	want := "https://" + pod.ID + "-9400.proxy.runpod.net/metrics"
	if got.Status != provision.StatusRunning || got.MetricsURL != want {
		t.Fatalf("after start: status %s, metrics %q; want RUNNING, %q", got.Status, got.MetricsURL, want)
	}
	if got.GPUType != "NVIDIA GeForce RTX 4090" || got.GPUCount != 2 || got.Role != provision.RoleWorker || got.Name != "gpu-req-1" {
		t.Errorf("pod fields = %+v", got)
	}
	if got.CostPerHour != 2*0.69 {
		t.Errorf("running cost = %v, want %v", got.CostPerHour, 2*0.69)
	}

	list, err := f.p.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != pod.ID {
		t.Fatalf("List = %+v, %v; want the one pod", list, err)
	}

	if err := f.p.Stop(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	stopped := f.get(t, pod.ID)
	if stopped.Status != provision.StatusExited || stopped.MetricsURL != "" {
		t.Errorf("after stop: %+v, want EXITED without metrics", stopped)
	}
	if stopped.CostPerHour <= 0 || stopped.CostPerHour >= got.CostPerHour {
		t.Errorf("stopped cost = %v, want the volume's only (0 < cost < %v)", stopped.CostPerHour, got.CostPerHour)
	}

	if err := f.p.Resume(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	if s := f.get(t, pod.ID).Status; s != provision.StatusProvisioning {
		t.Errorf("after resume: %s, want PROVISIONING until it starts", s)
	}
	if err := f.p.Resume(ctx, pod.ID); err != nil {
		t.Errorf("resume of a starting pod: %v, want no-op", err)
	}
	f.fake.StartAll()
	if s := f.get(t, pod.ID).Status; s != provision.StatusRunning {
		t.Errorf("after start: %s, want RUNNING", s)
	}

	if err := f.p.Terminate(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := f.p.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List after terminate = %+v, %v; want none", list, err)
	}
}

func TestStartsAfterDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{}) // StartDelay 0: runs at once
	pod := f.create(t, "req-1")
	if got := f.get(t, pod.ID); got.Status != provision.StatusRunning || got.MetricsURL == "" {
		t.Errorf("got %+v, want running with a metrics URL", got)
	}
}

func TestCreateSendsSpec(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{ManualStart: true})
	f.create(t, "req-1")
	pods := f.fake.Pods()
	if len(pods) != 1 {
		t.Fatalf("fake has %d pods, want 1", len(pods))
	}
	p := pods[0]
	if p.ImageName != testImage || p.Ports != "9400/http" || p.CloudType != "SECURE" || p.VolumeInGb != 20 || p.ContainerDiskInGb != DefaultContainerDiskGB {
		t.Errorf("fake pod = %+v", p)
	}
	for k, v := range map[string]string{EnvRequestID: "req-1", EnvRole: "worker", "GPUWD_AGGREGATOR_URL": "https://agg.example"} {
		if p.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, p.Env[k], v)
		}
	}
}

func TestCreateValidates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{}, func(c *Config) { c.Image = "" })
	for name, edit := range map[string]func(*provision.PodSpec){
		"no request id": func(s *provision.PodSpec) { s.RequestID = "" },
		"no GPU type":   func(s *provision.PodSpec) { s.GPUType = "" },
		"GPU count":     func(s *provision.PodSpec) { s.GPUCount = 0 },
		"no image":      func(s *provision.PodSpec) {},
		"cloud":         func(s *provision.PodSpec) { s.Image, s.Cloud = testImage, "MOON" },
	} {
		s := spec("req-1")
		edit(&s)
		if _, err := f.p.Create(context.Background(), s); !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("%s: err = %v, want ErrInvalidSpec", name, err)
		}
	}
	if n := f.fake.Requests(); n != 0 {
		t.Errorf("invalid specs sent %d requests, want 0", n)
	}
}

func TestCreateSoldOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{GPUTypes: []runpodtest.GPUType{{ID: "H100", SecurePrice: 3, SoldOut: true}}})
	s := spec("req-1")
	s.GPUType = "H100"
	_, err := f.p.Create(context.Background(), s)
	var ge *GraphQLError
	if !errors.As(err, &ge) || f.fake.Creates() != 0 {
		t.Errorf("err = %v, want a GraphQLError and no pod", err)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, runpodtest.Options{})
	if _, err := f.p.Get(ctx, "nope"); !errors.Is(err, provision.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	for name, op := range map[string]func(context.Context, string) error{
		"stop": f.p.Stop, "resume": f.p.Resume, "terminate": f.p.Terminate,
	} {
		if err := op(ctx, "nope"); !errors.Is(err, provision.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestOffers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, runpodtest.Options{})
	offers, err := f.p.Offers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]provision.Offer{
		"A100 PCIe": {GPUType: "NVIDIA A100 80GB PCIe", DisplayName: "A100 PCIe", MemoryGB: 80, SecurePrice: 1.64, CommunityPrice: 1.19, MaxGPUs: 8},
		"H100 SXM":  {GPUType: "NVIDIA H100 80GB HBM3", DisplayName: "H100 SXM", MemoryGB: 80, SecurePrice: 2.99, MaxGPUs: 8},
		"RTX 4090":  {GPUType: "NVIDIA GeForce RTX 4090", DisplayName: "RTX 4090", MemoryGB: 24, SecurePrice: 0.69, CommunityPrice: 0.34, MaxGPUs: 8},
	}
	if len(offers) != len(want) {
		t.Fatalf("got %d offers, want %d: %+v", len(offers), len(want), offers)
	}
	for i, o := range offers {
		if o != want[o.DisplayName] {
			t.Errorf("offer %d = %+v, want %+v", i, o, want[o.DisplayName])
		}
	}
	if offers[0].DisplayName != "A100 PCIe" {
		t.Errorf("offers not sorted by name: %+v", offers)
	}
}
