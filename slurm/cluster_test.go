package slurm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/internal/metrictest"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/munge"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmtest"
)

// These tests start a real Slurm cluster from nothing: gpuwd-agent as the
// head and as dynamic workers, each in its own namespaces (see slurmtest),
// with simulated GPUs backed by fake device files.

var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-slurm-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if agentBin, err = testenv.BuildAgent(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cluster is a head and its workers.
type cluster struct {
	t    testing.TB
	net  *slurmtest.Network
	key  string
	head *slurmtest.Process
}

func newCluster(t testing.TB) *cluster {
	return &cluster{t: t, net: slurmtest.NewNetwork(t), key: munge.GenerateKey().Encode()}
}

// agent starts gpuwd-agent on a new node with gpus simulated H100s.
func (c *cluster) agent(name, role string, gpus int, extra ...string) *slurmtest.Process {
	c.t.Helper()
	node := c.net.Node(name)
	args := []string{"--listen", node.IP + ":9400", "--log-format", "json", "--slurm-role", role,
		"--slurm-device-dir", slurmtest.FakeGPUs(c.t, gpus), "--slurm-collect-interval", "1s",
		"--slurm-command-timeout", "2s", "--munge-key", c.key, "--simulate-seed", strconv.Itoa(len(name) + int(name[len(name)-1]))}
	if gpus > 0 {
		args = append(args, "--simulate", "h100x"+strconv.Itoa(gpus))
	}
	if role == "head" {
		args = append(args, "--slurm-conf-server", node.IP)
	} else if c.head != nil {
		args = append(args, "--slurm-conf-server", c.head.Node.IP)
	}
	p := node.Start(c.t, agentBin, append(args, extra...)...)
	if role == "head" {
		c.head = p
	}
	return p
}

func url(p *slurmtest.Process, path string) string { return "http://" + p.Node.IP + ":9400" + path }

// client's timeout bounds a scrape: Slurm's state must never hold one up.
var client = &http.Client{Timeout: 3 * time.Second}

func get(p *slurmtest.Process, path string) (int, string) {
	resp, err := client.Get(url(p, path))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitReady(t testing.TB, p *slurmtest.Process, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, body := get(p, "/readyz")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %d %s", p.Node.Name, limit, code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slurm runs a Slurm command on the head.
func (c *cluster) slurm(t testing.TB, prog string, args ...string) string {
	t.Helper()
	out, err := c.head.Exec(context.Background(), []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"}, prog, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func metrics(t testing.TB, p *slurmtest.Process) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(p, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics on %s: %d %s", p.Node.Name, code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics on %s: %v", p.Node.Name, err)
	}
	return fams
}

// stop sends SIGTERM and checks that the node's namespace is empty after.
func stop(t testing.TB, p *slurmtest.Process, limit time.Duration) {
	t.Helper()
	ns := p.MountNamespace()
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(limit); err != nil {
		t.Errorf("%s: %v", p.Node.Name, err)
	}
	eventually(t, 5*time.Second, "nothing left running on "+p.Node.Name, func() bool { return len(slurmtest.ProcessesIn(ns)) == 0 })
}

func TestClusterFromNothing(t *testing.T) {
	c := newCluster(t)
	head := c.agent("head", "head", 1)
	waitReady(t, head, 60*time.Second)
	w1 := c.agent("w1", "worker", 2)
	w2 := c.agent("w2", "worker", 4, "--slurm-features", "big,team-a")
	waitReady(t, w1, 60*time.Second)
	waitReady(t, w2, 60*time.Second)

	t.Run("workers join idle with their GPUs and features", func(t *testing.T) {
		got := c.slurm(t, "sinfo", "-h", "-N", "-o", "%N %T %G %f")
		for _, want := range []string{"head idle gpu:1 h100", "w1 idle gpu:2 h100", "w2 idle gpu:4 h100,big,team-a"} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("sinfo lacks %q:\n%s", want, got)
			}
		}
	})

	// A job for user nobody on GPUs 1 and 2 of w2 (GPU 0 is held by a first job).
	c.slurm(t, "sbatch", "--uid=nobody", "--chdir=/tmp", "-w", "w2", "--gres=gpu:1", "-J", "first", "-o", "/dev/null", "--wrap", "sleep 600")
	jobOut := c.slurm(t, "sbatch", "--parsable", "--uid=nobody", "--chdir=/tmp", "-w", "w2", "--gres=gpu:2", "-J", "train",
		"-o", "/dev/null", "--wrap", "sleep 600")
	jobID := strings.TrimSpace(jobOut)
	eventually(t, 30*time.Second, "job "+jobID+" running", func() bool {
		return strings.TrimSpace(c.slurm(t, "squeue", "-h", "-j", jobID, "-o", "%T")) == "RUNNING"
	})

	t.Run("the job's GPUs are attributed on the node", func(t *testing.T) {
		var node struct {
			GPUs []struct {
				Index int
				UUID  string
			}
		}
		_, body := get(w2, "/api/v1/node")
		if err := json.Unmarshal([]byte(body), &node); err != nil || len(node.GPUs) != 4 {
			t.Fatalf("/api/v1/node: %v %s", err, body)
		}
		detail := c.slurm(t, "scontrol", "-d", "show", "job", jobID)
		idx := gresIndices(t, detail)
		if len(idx) != 2 {
			t.Fatalf("job %s holds GPUs %v:\n%s", jobID, idx, detail)
		}
		eventually(t, 15*time.Second, "gpuwd_gpu_job_info for job "+jobID, func() bool {
			return metrictest.Value(metrics(t, w2), "gpuwd_gpu_job_info", "job_id", jobID) == 1
		})
		fams := metrics(t, w2)
		for _, i := range idx {
			if v := metrictest.Value(fams, "gpuwd_gpu_job_info", "gpu", strconv.Itoa(i), "UUID", node.GPUs[i].UUID,
				"job_id", jobID, "user", "nobody", "partition", "gpu"); v != 1 {
				t.Errorf("GPU %d (%s) not attributed to job %s of nobody", i, node.GPUs[i].UUID, jobID)
			}
		}
		if v := metrictest.Value(fams, "gpuwd_gpu_allocated", "gpu", "3"); v != 0 {
			t.Errorf("free GPU 3: gpuwd_gpu_allocated = %v, want 0", v)
		}
	})

	t.Run("cluster metrics match sinfo and squeue", func(t *testing.T) {
		want := map[string]float64{}
		for line := range strings.Lines(c.slurm(t, "sinfo", "-h", "-N", "-o", "%T")) {
			want["slurm_nodes_"+map[string]string{"idle": "idle", "mixed": "mix", "allocated": "alloc"}[strings.TrimSpace(line)]]++
		}
		want["slurm_queue_running"] = float64(strings.Count(c.slurm(t, "squeue", "-h", "-t", "R", "-o", "%i"), "\n"))
		want["slurm_gpus_total"] = 7
		want["slurm_gpus_alloc"] = 3
		eventually(t, 15*time.Second, "head metrics to catch up", func() bool {
			fams := metrics(t, head)
			for name, v := range want {
				if metrictest.Value(fams, name) != v {
					return false
				}
			}
			return true
		})
		fams := metrics(t, head)
		if metrictest.Value(fams, "gpuwd_slurm_up") != 1 || metrictest.Value(fams, "gpuwd_slurm_daemon_up", "daemon", "slurmctld") != 1 {
			t.Errorf("gpuwd_slurm_up / daemon_up not 1 on the head")
		}
	})

	t.Run("SIGTERM on a worker removes it cleanly", func(t *testing.T) {
		stop(t, w2, 15*time.Second)
		if got := c.slurm(t, "sinfo", "-h", "-N", "-o", "%N"); strings.Contains(got, "w2") {
			t.Errorf("w2 still in the cluster:\n%s", got)
		}
		// Its batch job went back to the queue rather than being lost.
		if st := strings.TrimSpace(c.slurm(t, "squeue", "-h", "-j", jobID, "-o", "%T")); st != "PENDING" {
			t.Errorf("job %s after its node left: %q, want PENDING (requeued)", jobID, st)
		}
		if recs := w2.LogRecords(); !hasMsg(recs, "left the Slurm cluster") {
			t.Errorf("no 'left the Slurm cluster' in w2's log")
		}
	})

	t.Run("a hung slurmctld is gpuwd_slurm_up 0, not a hung scrape", func(t *testing.T) {
		ctld := slurmtest.ChildPID(head.Pid(), "slurmctld")
		if ctld == 0 {
			t.Fatal("no slurmctld under the head agent")
		}
		if err := syscall.Kill(ctld, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(ctld, syscall.SIGCONT)
		eventually(t, 30*time.Second, "gpuwd_slurm_up 0 on the head and w1", func() bool {
			return metrictest.Value(metrics(t, head), "gpuwd_slurm_up") == 0 && metrictest.Value(metrics(t, w1), "gpuwd_slurm_up") == 0
		})
		if fams := metrics(t, head); metrictest.Value(fams, "slurm_nodes_total") != -1 || metrictest.Value(fams, "DCGM_FI_DEV_GPU_TEMP", "gpu", "0") < 0 {
			t.Errorf("stale cluster metrics served, or GPU metrics missing, while slurmctld hangs")
		}
		if code, body := get(head, "/readyz"); code != 503 || !strings.Contains(body, "Slurm") {
			t.Errorf("/readyz while slurmctld hangs: %d %s", code, body)
		}
		_ = syscall.Kill(ctld, syscall.SIGCONT)
		eventually(t, 30*time.Second, "gpuwd_slurm_up 1 again", func() bool { return metrictest.Value(metrics(t, head), "gpuwd_slurm_up") == 1 })
	})

	t.Run("a killed slurmctld is restarted", func(t *testing.T) {
		old := slurmtest.ChildPID(head.Pid(), "slurmctld")
		if old == 0 {
			t.Fatal("no slurmctld under the head agent")
		}
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "slurmctld back", func() bool {
			p := slurmtest.ChildPID(head.Pid(), "slurmctld")
			return p != 0 && p != old && metrictest.Value(metrics(t, head), "gpuwd_slurm_daemon_restarts_total", "daemon", "slurmctld") == 1
		})
		eventually(t, 30*time.Second, "the cluster answering again with its nodes", func() bool {
			out, err := c.head.Exec(context.Background(), []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"}, "sinfo", "-h", "-N", "-o", "%N")
			return err == nil && strings.Contains(out, "head\n") && strings.Contains(out, "w1\n")
		})
	})

	c.slurm(t, "scancel", "--state=PENDING")
	c.slurm(t, "scancel", "--state=RUNNING")
	stop(t, w1, 15*time.Second)
	stop(t, head, 15*time.Second)
}

func hasMsg(recs []map[string]any, msg string) bool {
	for _, r := range recs {
		if r["msg"] == msg {
			return true
		}
	}
	return false
}

// gresIndices reads the GPU indices from scontrol -d show job.
func gresIndices(t testing.TB, detail string) []int {
	t.Helper()
	_, rest, ok := strings.Cut(detail, "(IDX:")
	if !ok {
		return nil
	}
	list, _, _ := strings.Cut(rest, ")")
	var out []int
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out
}

// A worker given a conf server where nothing listens says so once, keeps
// serving GPU metrics, and is not ready.
func TestWrongConfServerIsOneClearError(t *testing.T) {
	c := newCluster(t)
	w := c.agent("lost", "worker", 2, "--slurm-conf-server", c.net.HostIP()+":6899")
	var body string
	eventually(t, 30*time.Second, "/readyz to name the unreachable controller", func() bool {
		var code int
		code, body = get(w, "/readyz")
		return code == 503 && strings.Contains(body, "cannot reach the Slurm controller at "+c.net.HostIP()+":6899")
	})
	fams := metrics(t, w)
	if metrictest.Value(fams, "DCGM_FI_DEV_GPU_TEMP", "gpu", "1") < 0 || metrictest.Value(fams, "gpuwd_slurm_node_joined") != 0 {
		t.Errorf("GPU metrics or gpuwd_slurm_node_joined missing while Slurm cannot start")
	}
	time.Sleep(3 * time.Second) // several retries
	errors := 0
	for _, r := range w.LogRecords() {
		if r["level"] == "ERROR" {
			errors++
		}
	}
	if errors != 1 {
		t.Errorf("%d error lines, want 1:\n%s", errors, w.Log())
	}
	stop(t, w, 10*time.Second)
}

// BenchmarkWorkerJoin measures an agent's start to its node IDLE in sinfo
// on the head, for a worker with 8 GPUs.
func BenchmarkWorkerJoin(b *testing.B) {
	c := newCluster(b)
	head := c.agent("head", "head", 0)
	waitReady(b, head, time.Minute)
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := "j" + strconv.Itoa(i)
		w := c.agent(name, "worker", 8)
		eventually(b, time.Minute, name+" idle on the head", func() bool {
			out, err := head.Exec(context.Background(), []string{"SLURM_CONF=/var/lib/gpuwd/slurm/etc/slurm.conf"},
				"sinfo", "-h", "-N", "-n", name, "-o", "%T")
			return err == nil && strings.TrimSpace(out) == "idle"
		})
		total += time.Since(w.Started)
		b.StopTimer()
		stop(b, w, 15*time.Second)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), "s/join")
	stop(b, head, 15*time.Second)
}
