package local

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/internal/nodens"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmtest"
)

// A head pod and a worker pod, each in its own namespaces, form a real
// Slurm cluster and register with an aggregator at the provider's host
// address.
func TestNamespacedPodsFormASlurmCluster(t *testing.T) {
	slurmtest.Require(t)
	p := newProvider(t, "", true)
	bridge := p.net.Bridge()

	registered := make(chan string, 10)
	ln, err := net.Listen("tcp", p.HostAddress()+":0")
	if err != nil {
		t.Fatal(err)
	}
	agg := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			PodID string `json:"pod_id"`
		}
		if r.URL.Path == "/api/v1/agents/register" && json.NewDecoder(r.Body).Decode(&body) == nil {
			select {
			case registered <- body.PodID:
			default:
			}
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"heartbeat_seconds":60}}`))
	}))
	agg.Listener = ln
	agg.Start()
	defer agg.Close()

	join := provision.Join{AggregatorURL: agg.URL, RegistrationToken: "t", MungeKey: munge.GenerateKey().Encode()}
	create := func(name string, role provision.Role, gpus int) provision.Pod {
		t.Helper()
		env := join.AgentEnv(role, name)
		env["GPUWD_SLURM_COLLECT_INTERVAL"] = "1s"
		pod, err := p.Create(ctx, provision.PodSpec{RequestID: name, Name: name, GPUType: "h100", GPUCount: gpus, Role: role, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		return waitStatus(t, p, pod.ID, provision.StatusRunning)
	}
	head := create("head", provision.RoleHead, 1)
	if got := <-registered; got != head.ID {
		t.Errorf("registered pod_id %q, want %s", got, head.ID)
	}
	fams, err := scrape(head.MetricsURL)
	if err != nil || gauge(fams, "gpuwd_node_cost_per_hour_dollars") != 2.69 {
		t.Fatalf("head's metrics at %s: %v", head.MetricsURL, err)
	}
	join.ConfServer = strings.Split(strings.TrimPrefix(head.MetricsURL, "http://"), ":")[0]
	worker := create("worker", provision.RoleWorker, 2)

	sinfo := func() string {
		out, _ := p.exec(head.ID, "env", "SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf", "sinfo", "-h", "-N", "-o", "%N %T %G")
		return out
	}
	eventually(t, 90*time.Second, "the worker idle in sinfo on the head, and ready", func() bool {
		resp, err := client.Get(strings.TrimSuffix(worker.MetricsURL, "/metrics") + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && strings.Contains(sinfo(), "worker idle gpu:2\n")
	})

	if err := p.Stop(ctx, worker.ID); err != nil {
		t.Fatal(err)
	}
	if got := sinfo(); strings.Contains(got, "worker") {
		t.Errorf("a stopped worker is still in the cluster:\n%s\nits log:\n%s", got, agentLog(p, worker.ID))
	}
	p.Close()
	if exec.Command("ip", "link", "show", bridge).Run() == nil {
		t.Errorf("bridge %s left after Close", bridge)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), "gwd"+strings.TrimPrefix(bridge, "gwdbr")+"-") {
		t.Errorf("namespaces left after Close:\n%s", out)
	}
}

// exec runs prog in the namespaces of pod id's agent.
func (p *Provider) exec(id, prog string, args ...string) (string, error) {
	p.mu.Lock()
	pd := p.pods[id]
	var pid int
	if pd != nil && pd.proc != nil {
		pid = pd.proc.cmd.Process.Pid
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := nodens.Enter(ctx, pid, prog, args...).CombinedOutput()
	return string(out), err
}

func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
