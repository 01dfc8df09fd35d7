package local

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

var ctx = context.Background()

func TestLifecycle(t *testing.T) {
	p := newProvider(t, "", false)
	spec := provision.PodSpec{RequestID: "req-1", Name: "pod-a", GPUType: "h100", GPUCount: 2}
	created, err := p.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.ID, "local-") || len(created.ID) != len("local-")+8 || created.Name != "pod-a" || created.RequestID != "req-1" {
		t.Errorf("created %+v", created)
	}
	pod := waitStatus(t, p, created.ID, provision.StatusRunning)
	if pod.CostPerHour != 2*2.69 || pod.MetricsURL == "" {
		t.Errorf("running pod: cost %v, metrics URL %q", pod.CostPerHour, pod.MetricsURL)
	}
	fams, err := scrape(pod.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if fams["DCGM_FI_DEV_GPU_UTIL"] == nil || len(fams["DCGM_FI_DEV_GPU_UTIL"].Metric) != 2 {
		t.Errorf("DCGM_FI_DEV_GPU_UTIL missing or not 2 GPUs")
	}
	if got := gauge(fams, "gpuwd_node_cost_per_hour_dollars"); got != 2*2.69 {
		t.Errorf("gpuwd_node_cost_per_hour_dollars = %v, want %v", got, 2*2.69)
	}

	t.Run("a retried create returns the pod", func(t *testing.T) {
		again, err := p.Create(ctx, spec)
		if err != nil || again.ID != created.ID {
			t.Errorf("Create again = %s, %v; want %s", again.ID, err, created.ID)
		}
		if pods, _ := p.List(ctx); len(pods) != 1 {
			t.Errorf("%d pods, want 1", len(pods))
		}
	})

	if err := p.Stop(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	stopped := waitStatus(t, p, pod.ID, provision.StatusExited)
	if stopped.CostPerHour != 0 || stopped.MetricsURL != "" {
		t.Errorf("stopped pod: cost %v, metrics URL %q", stopped.CostPerHour, stopped.MetricsURL)
	}
	if _, err := scrape(pod.MetricsURL); err == nil {
		t.Errorf("a stopped pod's agent still answers")
	}

	if err := p.Resume(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	resumed := waitStatus(t, p, pod.ID, provision.StatusRunning)
	if _, err := scrape(resumed.MetricsURL); err != nil {
		t.Errorf("resumed pod: %v", err)
	}

	if err := p.Terminate(ctx, pod.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(ctx, pod.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Errorf("Get after Terminate: %v, want ErrNotFound", err)
	}
	if pods, _ := p.List(ctx); len(pods) != 0 {
		t.Errorf("List after Terminate: %+v", pods)
	}
	if _, err := os.Stat(p.podDir(pod.ID)); !os.IsNotExist(err) {
		t.Errorf("pod directory left after Terminate: %v", err)
	}
	if _, err := scrape(resumed.MetricsURL); err == nil {
		t.Errorf("a terminated pod's agent still answers")
	}
}

func TestUnknownPodIsNotFound(t *testing.T) {
	p := newProvider(t, "", false)
	for name, op := range map[string]func(context.Context, string) error{
		"Stop": p.Stop, "Resume": p.Resume, "Terminate": p.Terminate,
		"Get": func(ctx context.Context, id string) error { _, err := p.Get(ctx, id); return err },
	} {
		if err := op(ctx, "local-00000000"); !errors.Is(err, provision.ErrNotFound) {
			t.Errorf("%s of an unknown pod: %v, want ErrNotFound", name, err)
		}
	}
}

func TestCreateRejectsWhatItCannotRun(t *testing.T) {
	p := newProvider(t, "", false)
	for _, spec := range []provision.PodSpec{
		{GPUType: "b200", GPUCount: 1},
		{GPUType: "h100", GPUCount: 0},
		{GPUType: "h100", GPUCount: 9},
		{GPUType: "h100", GPUCount: 1, Name: "bad name; rm -rf"},
		{GPUType: "h100", GPUCount: 1, Role: provision.RoleWorker},
	} {
		if pod, err := p.Create(ctx, spec); err == nil {
			t.Errorf("Create(%+v) = %+v, want an error", spec, pod)
		}
	}
	if pods, _ := p.List(ctx); len(pods) != 0 {
		t.Errorf("rejected creates left pods: %+v", pods)
	}
}

func TestConcurrentRetriesMakeOnePod(t *testing.T) {
	p := newProvider(t, "", false)
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			pod, err := p.Create(ctx, provision.PodSpec{RequestID: "same", GPUType: "l4", GPUCount: 1})
			if err != nil {
				t.Error(err)
			}
			ids[i] = pod.ID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Errorf("concurrent creates made pods %v", ids)
		}
	}
}

func TestPodsSurviveARestartExited(t *testing.T) {
	dir := t.TempDir()
	first := newProvider(t, dir, false)
	created, err := first.Create(ctx, provision.PodSpec{RequestID: "r", Name: "keep", GPUType: "a100", GPUCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	running := waitStatus(t, first, created.ID, provision.StatusRunning)
	first.Close()
	if _, err := scrape(running.MetricsURL); err == nil {
		t.Errorf("the agent outlived Close")
	}

	second := newProvider(t, dir, false)
	pods, err := second.List(ctx)
	if err != nil || len(pods) != 1 || pods[0].ID != created.ID || pods[0].Status != provision.StatusExited || pods[0].Name != "keep" {
		t.Fatalf("after restart: %+v, %v", pods, err)
	}
	if again, _ := second.Create(ctx, provision.PodSpec{RequestID: "r", GPUType: "a100", GPUCount: 1}); again.ID != created.ID {
		t.Errorf("RequestID forgotten across restart: %s", again.ID)
	}
	if err := second.Resume(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	resumed := waitStatus(t, second, created.ID, provision.StatusRunning)
	if fams, err := scrape(resumed.MetricsURL); err != nil || gauge(fams, "gpuwd_node_cost_per_hour_dollars") != 1.19 {
		t.Errorf("resumed pod's metrics: %v", err)
	}
}

func TestAnAgentThatDiesIsError(t *testing.T) {
	p := newProvider(t, "", false)
	pod, err := p.Create(ctx, provision.PodSpec{GPUType: "h100", GPUCount: 1, Env: map[string]string{"GPUWD_SAMPLE_INTERVAL": "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	failed := waitStatus(t, p, pod.ID, provision.StatusError)
	if !strings.Contains(failed.Message, "sample-interval") || failed.CostPerHour != 0 {
		t.Errorf("failed pod: message %q, cost %v", failed.Message, failed.CostPerHour)
	}
}

// The agent registers with the pod's id, which is how the aggregator links
// agents to pods, and the URL the provider reports.
func TestAgentRegistersWithItsPodID(t *testing.T) {
	registered := make(chan map[string]any, 10)
	agg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.URL.Path == "/api/v1/agents/register" && r.Header.Get("Authorization") == "Bearer secret" &&
			json.NewDecoder(r.Body).Decode(&body) == nil {
			select {
			case registered <- body:
			default:
			}
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"heartbeat_seconds":60}}`))
	}))
	defer agg.Close()
	p := newProvider(t, "", false)
	env := map[string]string{"GPUWD_AGGREGATOR_URL": agg.URL, "GPUWD_TOKEN": "secret", "GPUWD_LISTEN": ":9400"}
	pod, err := p.Create(ctx, provision.PodSpec{RequestID: "reg", Name: "reg", GPUType: "h100", GPUCount: 1, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	running := waitStatus(t, p, pod.ID, provision.StatusRunning)
	body := <-registered
	if body["pod_id"] != pod.ID || body["url"] != running.MetricsURL || body["node"] != "reg" {
		t.Errorf("registered %v; want pod_id %s, url %s", body, pod.ID, running.MetricsURL)
	}
}

func TestDefaultOffersAreSimulated(t *testing.T) {
	for _, o := range DefaultOffers {
		if _, err := sim.ParseSpec(o.GPUType + "x1"); err != nil || o.Price(provision.CloudAll) <= 0 {
			t.Errorf("offer %+v: %v", o, err)
		}
	}
}
