package aggregator_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmtest"
	"github.com/gpu-watchdog/gpu-watchdog/web/formtest"
)

// startSlurmPods starts gpuwd with local pods in namespaces (real Slurm)
// and logs in as an admin.
func startSlurmPods(tb testing.TB) (*aggregator.Server, *formtest.Client) {
	slurmtest.Require(tb)
	bin := agentBinary(tb)
	s := startServer(tb, `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
registration: {token: slurm-pods-token}
provision:
  local: {agent_binary: `+bin+`, dir: `+filepath.Join(tb.TempDir(), "pods")+`, namespaces: true}
`)
	return s, login(tb, s)
}

// launchAndFollow launches one local h100 pod of role through the
// confirmed form, then polls the page every 50 ms until the launch is
// ready (a head registered, a worker's Slurm node idle), and returns when
// it reached each stage, from the confirmation.
func launchAndFollow(tb testing.TB, br *formtest.Client, name, role string) map[string]time.Duration {
	tb.Helper()
	br.Get("/provision")
	start := time.Now()
	form := url.Values{"offer": {"local/h100"}, "gpu_count": {"1"}, "count": {"1"}, "cloud": {"ALL"}, "role": {role}, "name": {name}, "confirm": {"yes"}}
	if code, page := br.Post("/provision/launch", form); code != http.StatusSeeOther {
		tb.Fatalf("launching %s: %d %s", name, code, formtest.Text(page, "main"))
	}
	reached := map[string]time.Duration{}
	for deadline := start.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, page := br.Get("/provision")
		row := page.Find(`[data-testid=launch][data-name=` + name + `]`)
		stage, _ := row.Attr("data-stage")
		if _, ok := reached[stage]; !ok && stage != "" {
			reached[stage] = time.Since(start)
		}
		switch {
		case stage == "failed":
			tb.Fatalf("launch %s failed: %s", name, row.Find("[data-testid=launch-error]").Text())
		case stage == "slurm-idle", role == "head" && stage == "registered":
			return reached
		}
	}
	tb.Fatalf("launch %s not ready in 2 minutes: %v", name, reached)
	return nil
}

// podID is the id of the pod named name, once the page lists it (pods are
// listed every 5 s).
func podID(tb testing.TB, br *formtest.Client, name string) string {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, page := br.Get("/provision")
		if id, _ := page.Find(`[data-testid=pod][data-name=` + name + `] td`).First().Attr("title"); id != "" {
			return id
		}
	}
	tb.Fatalf("pod %s never listed", name)
	return ""
}

// A Slurm cluster is built from the dashboard alone: a head, then a
// worker that joins it with no conf server or munge key configured (gpuwd
// makes the key and knows the head's address).
func TestSlurmClusterFromTheDashboard(t *testing.T) {
	s, br := startSlurmPods(t)
	if code, page := br.Post("/provision/launch", url.Values{"offer": {"local/h100"}, "gpu_count": {"1"}, "count": {"1"},
		"cloud": {"ALL"}, "role": {"worker"}, "confirm": {"yes"}}); code != http.StatusBadRequest || !strings.Contains(formtest.Text(page, "main"), "launch a head on local first") {
		t.Fatalf("a worker before any head: %d %q", code, formtest.Text(page, "main"))
	}
	launchAndFollow(t, br, "head", "head")
	r := launchAndFollow(t, br, "worker", "worker")
	t.Logf("worker: registered after %v, Slurm node idle after %v", r["registered"].Round(10*time.Millisecond), r["slurm-idle"].Round(10*time.Millisecond))
	st, err := os.Stat(filepath.Join(s.DataDir(), "munge.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the cluster's munge key: %v %v", st, err)
	}
	vec := query(t, s, `slurm_node_status{node="worker"}`)
	for deadline := time.Now().Add(30 * time.Second); len(vec) == 0 && time.Now().Before(deadline); time.Sleep(time.Second) {
		vec = query(t, s, `slurm_node_status{node="worker"}`) // the head's view, at its next collection
	}
	if len(vec) == 0 {
		t.Error("the head never reported the worker")
	}
}

// BenchmarkLaunchToSlurmIdle measures a local pod's launch in namespace
// mode as a person does it from the dashboard: a head is launched once;
// each iteration launches a worker that joins it, reports when its agent
// registered and when its Slurm node was idle, then terminates it. Needs
// root and Slurm (make test-deps).
func BenchmarkLaunchToSlurmIdle(b *testing.B) {
	_, br := startSlurmPods(b)
	launchAndFollow(b, br, "head", "head")
	var registered, idle time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := "worker-" + string(rune('a'+i%26))
		r := launchAndFollow(b, br, name, "worker")
		registered += r["registered"]
		idle += r["slurm-idle"]
		b.StopTimer()
		id := podID(b, br, name)
		br.Get("/provision/pods/local/" + id + "/terminate")
		if code, _ := br.Post("/provision/pods/local/"+id+"/terminate", url.Values{}); code != http.StatusSeeOther {
			b.Fatalf("terminating %s: %d", name, code)
		}
		b.StartTimer()
	}
	b.ReportMetric((registered / time.Duration(b.N)).Seconds(), "s-to-registered")
	b.ReportMetric((idle / time.Duration(b.N)).Seconds(), "s-to-slurm-idle")
}
