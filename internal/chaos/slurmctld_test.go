package chaos

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/internal/metrictest"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmtest"
)

// slurmNode starts gpuwd-agent with a Slurm role on a new node of net.
func slurmNode(t *testing.T, net *slurmtest.Network, name, role, key, confServer string) *slurmtest.Process {
	t.Helper()
	node := net.Node(name)
	if role == "head" {
		confServer = node.IP
	}
	return node.Start(t, agentBin, "--listen", node.IP+":9400", "--log-format", "json", "--slurm-role", role,
		"--slurm-device-dir", slurmtest.FakeGPUs(t, 1), "--slurm-collect-interval", "1s", "--slurm-command-timeout", "2s",
		"--munge-key", key, "--simulate", "h100x1", "--simulate-seed", strconv.Itoa(len(name)), "--slurm-conf-server", confServer)
}

func nodeURL(p *slurmtest.Process, path string) string { return "http://" + p.Node.IP + ":9400" + path }

// TestChaosSlurmctldKilled runs a real Slurm cluster (slurm/slurmtest: a
// head and two workers, each gpuwd-agent in its own namespaces; root and
// Slurm needed) scraped by the real gpuwd with the default rule pack's
// Slurm rules (packaging/rules/slurm.yml, every `for` divided by 60), and
// kills slurmctld with SIGKILL three times in a row. Each time the head
// agent restarts it (after its backoff: 1s, 2s, 4s), its metrics show the
// outage (gpuwd_slurm_daemon_up 0, then 1; the restart counter at 1, 2, 3;
// the workers' gpuwd_slurm_up 0 while the controller is away) and gpuwd's
// history keeps it; the cluster answers again with all three nodes idle,
// jobs run on both workers afterwards, and SlurmDaemonRestarting fires.
func TestChaosSlurmctldKilled(t *testing.T) {
	net := slurmtest.NewNetwork(t)
	key := munge.GenerateKey().Encode()
	head := slurmNode(t, net, "head", "head", key, "")
	waitNodeReady(t, head)
	w1 := slurmNode(t, net, "w1", "worker", key, head.Node.IP)
	w2 := slurmNode(t, net, "w2", "worker", key, head.Node.IP)
	waitNodeReady(t, w1)
	waitNodeReady(t, w2)
	sinfo := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return head.Exec(ctx, []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"}, "sinfo", "-h", "-N", "-o", "%N %T")
	}
	var lastSinfo string
	allIdle := func() bool {
		out, err := sinfo()
		lastSinfo = fmt.Sprint(out, err)
		return err == nil && strings.Contains(out, "head idle\n") && strings.Contains(out, "w1 idle\n") && strings.Contains(out, "w2 idle\n")
	}
	if !within(60*time.Second, allIdle) {
		t.Fatalf("no cluster of three idle nodes; last sinfo: %s", lastSinfo)
	}

	dir := t.TempDir()
	var targets []string
	for _, p := range []*slurmtest.Process{head, w1, w2} {
		targets = append(targets, fmt.Sprintf("%q", p.Node.IP+":9400"))
	}
	writeFiles(t, dir, map[string]string{"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [` + scaledRules(t, dir, "slurm.yml") + `]
scrape_configs:
  - job_name: gpuwd-agent
    static_configs: [{targets: [` + strings.Join(targets, ", ") + `]}]
`})
	srv := launch(t, gpuwdBin, "serve", "--listen", "127.0.0.1:0", "--config", filepath.Join(dir, "gpuwd.yml"), "--data-dir", filepath.Join(dir, "data"))
	c := &api.Client{BaseURL: srv.url(""), HTTP: httpClient}
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 60*time.Second, func(v model.Vector) bool { return len(v) == 3 })
	time.Sleep(2 * time.Second)

	headMetrics := nodeURL(head, "/metrics")
	var downSeen, back, answering []time.Duration
	for k := 1; k <= 3; k++ {
		old := slurmtest.ChildPID(head.Pid(), "slurmctld")
		if old == 0 {
			t.Fatal("no slurmctld under the head agent")
		}
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		downSeen = append(downSeen, eventually(t, 10*time.Second, "gpuwd_slurm_daemon_up 0 on the head", func() bool {
			return metric(headMetrics, "gpuwd_slurm_daemon_up", "daemon", "slurmctld") == 0
		}))
		eventually(t, 60*time.Second, fmt.Sprintf("slurmctld restarted (%d)", k), func() bool {
			p := slurmtest.ChildPID(head.Pid(), "slurmctld")
			fams, err := metricFamilies(headMetrics)
			return err == nil && p != 0 && p != old && metrictest.Value(fams, "gpuwd_slurm_daemon_up", "daemon", "slurmctld") == 1 &&
				metrictest.Value(fams, "gpuwd_slurm_daemon_restarts_total", "daemon", "slurmctld") == float64(k)
		})
		back = append(back, time.Since(killed))
		if !within(60*time.Second, allIdle) {
			t.Fatalf("the cluster did not answer with its three nodes idle within 60s of kill %d; last sinfo: %s", k, lastSinfo)
		}
		answering = append(answering, time.Since(killed))
	}

	// Jobs run afterwards, on both workers.
	for _, w := range []string{"w1", "w2"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := head.Exec(ctx, []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"}, "sbatch", "--parsable", "--uid=nobody", "--chdir=/tmp",
			"-w", w, "--gres=gpu:1", "-J", "after-"+w, "-o", "/dev/null", "--wrap", "true")
		cancel()
		if err != nil {
			t.Fatalf("sbatch on %s: %v", w, err)
		}
		id := strings.TrimSpace(out)
		eventually(t, 60*time.Second, "job "+id+" on "+w+" completed", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := head.Exec(ctx, []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"}, "scontrol", "show", "job", id)
			if strings.Contains(out, "JobState=FAILED") || strings.Contains(out, "JobState=NODE_FAIL") {
				t.Fatalf("job %s on %s: %s", id, w, out)
			}
			return err == nil && strings.Contains(out, "JobState=COMPLETED")
		})
	}

	// The aggregator's history saw the outages and the restarts.
	eventually(t, 30*time.Second, "SlurmDaemonRestarting firing", func() bool {
		return strings.Contains(strings.Join(firingAlerts(t, c.BaseURL), " "), "SlurmDaemonRestarting/")
	})
	if v := scalarOf(t, c, `min_over_time(gpuwd_slurm_daemon_up{daemon="slurmctld"}[10m])`, time.Time{}); v != 0 {
		t.Errorf("gpuwd's history of slurmctld's daemon_up has no 0: min %v", v)
	}
	workersDown := scalarOf(t, c, `count(min_over_time(gpuwd_slurm_up{instance!~"`+head.Node.IP+`.*"}[10m]) == 0)`, time.Time{})
	if workersDown != 2 {
		t.Errorf("%v workers' gpuwd_slurm_up went to 0 in gpuwd's history, want 2", workersDown)
	}
	rejoined := 0
	for _, p := range []*slurmtest.Process{head, w1, w2} {
		eventually(t, 20*time.Second, p.Node.Name+"'s gpuwd_slurm_up and gpuwd_slurm_node_joined 1", func() bool {
			fams, err := metricFamilies(nodeURL(p, "/metrics"))
			return err == nil && metrictest.Value(fams, "gpuwd_slurm_up") == 1 && metrictest.Value(fams, "gpuwd_slurm_node_joined") == 1
		})
		for _, r := range p.LogRecords() {
			if r["msg"] == "the node is in the cluster again" {
				rejoined++
			}
		}
	}
	summary(t, "slurmctld killed", "3 SIGKILLs of slurmctld: outage seen on the head's metrics within %.1f s, restarted by the agent after %.1f/%.1f/%.1f s "+
		"(backoff 1, 2, 4 s; restart counter 3), cluster answering with 3 idle nodes after %.1f/%.1f/%.1f s (%d re-registrations of nodes the restarted "+
		"controller had forgotten); workers' gpuwd_slurm_up 0 during outages in gpuwd's history; jobs on w1 and w2 completed afterwards; SlurmDaemonRestarting fired",
		max(downSeen[0], downSeen[1], downSeen[2]).Seconds(), back[0].Seconds(), back[1].Seconds(), back[2].Seconds(),
		answering[0].Seconds(), answering[1].Seconds(), answering[2].Seconds(), rejoined)
}

// within polls cond every 100ms for at most limit.
func within(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func waitNodeReady(t *testing.T, p *slurmtest.Process) {
	t.Helper()
	eventually(t, 60*time.Second, p.Node.Name+" ready", func() bool { return status(nodeURL(p, "/readyz")) == 200 })
}
