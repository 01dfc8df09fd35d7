package slurmsim

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpu-watchdog/gpu-watchdog/slurm"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/collector"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/supervise"
)

// exporter is a simulated agent's Slurm side on clock c.
func exporter(t testing.TB, cl *Cluster, c *clock, role Role, node string) *Exporter {
	t.Helper()
	spec, _ := cl.Node(node)
	gpus := make([]collector.GPU, spec.GPUs)
	for i := range gpus {
		gpus[i] = collector.GPU{Index: i, UUID: fmt.Sprintf("GPU-%s-%d", node, i)}
	}
	e, err := NewExporter(cl, ExporterOptions{Role: role, Node: node, Hostname: node + ".example", ClusterName: "sim",
		GPUs: gpus, Now: c.now}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// gather updates e and gathers it through a pedantic registry, which
// fails on series that Describe does not announce.
func gather(t testing.TB, e *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	if err := e.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// realDescs are the descriptions of every series a real node's agent can
// export about Slurm: package slurm's own and its collectors'.
func realDescs(t *testing.T) map[string]bool {
	t.Helper()
	node, err := slurm.New(slurm.Options{Role: slurm.RoleHead, ClusterName: "sim", Partition: "gpu", MaxNodes: 8,
		StateDir: "/nonexistent/state", CollectInterval: slurm.DefaultCollectInterval, CommandTimeout: slurm.DefaultCommandTimeout},
		nil, "head", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 1000)
	node.Describe(ch)
	collector.NewCluster(nil).Describe(ch)
	collector.NewGPUJobs(nil, "", "", nil).Describe(ch)
	supervise.NewMetrics("gpuwd_slurm").Describe(ch)
	close(ch)
	descs := map[string]bool{}
	for d := range ch {
		descs[d.String()] = true
	}
	if len(descs) < 50 {
		t.Fatalf("only %d descriptions of a real node's series", len(descs))
	}
	return descs
}

// The simulated series are the real ones: each has the name, help and
// labels of a series a real node exports, gauges but for the restart
// counters, and everything the dashboard's pages read is there.
func TestSeriesAreTheRealNodesSeries(t *testing.T) {
	real := realDescs(t)
	c := &clock{t: moments(1)[0]}
	e := exporter(t, demoCluster(t, 1), c, RoleHead, "gpu-node-h100")
	ch := make(chan *prometheus.Desc, 1000)
	e.Describe(ch)
	close(ch)
	for d := range ch {
		if !real[d.String()] {
			t.Errorf("not a real node's series: %s", d)
		}
	}
	fams := gather(t, e)
	for name, f := range fams {
		want := dto.MetricType_GAUGE
		if strings.HasSuffix(name, "_total") && strings.Contains(name, "restarts") {
			want = dto.MetricType_COUNTER
		}
		if f.GetType() != want {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), want)
		}
	}
	// What web/pages/{overview,nodes,node,slurm} read.
	for _, name := range []string{"gpuwd_gpu_job_info", "gpuwd_gpu_allocated", "gpuwd_slurm_job_info", "gpuwd_slurm_job_gpus",
		"gpuwd_slurm_job_cpus", "slurm_node_status", "slurm_partition_nodes_total", "slurm_partition_gpus_total",
		"slurm_partition_gpus_allocated", "slurm_partition_gpus_idle", "slurm_partition_jobs_pending", "gpuwd_slurm_daemon_up",
		"gpuwd_slurm_node_info", "gpuwd_slurm_up", "slurm_scheduler_last_cycle", "slurm_node_gpu_alloc"} {
		if len(fams[name].GetMetric()) == 0 {
			t.Errorf("no %s", name)
		}
	}
	if f := fams["gpuwd_slurm_up"]; f.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Error("gpuwd_slurm_up is not 1")
	}
}

// heldGPUs is what one agent says of its GPUs: GPU → job id, user,
// account and partition.
func heldGPUs(fams map[string]*dto.MetricFamily) (jobs map[string]string, allocated int) {
	jobs = map[string]string{}
	for _, m := range fams["gpuwd_gpu_job_info"].GetMetric() {
		l := labels(m)
		jobs[l["gpu"]] = l["job_id"] + " " + l["user"] + " " + l["account"] + " " + l["partition"]
	}
	for _, m := range fams["gpuwd_gpu_allocated"].GetMetric() {
		if m.GetGauge().GetValue() == 1 {
			allocated++
		}
	}
	return jobs, allocated
}

// The head and the workers, each computing the cluster on its own, agree
// on who holds what: every GPU a worker says a job holds belongs to a job
// the head lists as running, with the same owner, and the head's GPU
// counts per job and per node are the workers' counts.
func TestHeadAndWorkersAgree(t *testing.T) {
	cl := demoCluster(t, 3)
	c := &clock{}
	head := exporter(t, cl, c, RoleHead, "gpu-node-h100")
	workers := map[string]*Exporter{}
	for _, n := range cl.Nodes() {
		if n.Name != "gpu-node-h100" {
			workers[n.Name] = exporter(t, cl, c, RoleWorker, n.Name)
		}
	}
	sawHeld := 0
	for _, at := range moments(60) {
		c.set(at)
		h := gather(t, head)
		running := map[string]string{} // job id → owner
		for _, m := range h["gpuwd_slurm_job_info"].GetMetric() {
			if l := labels(m); l["state"] == "RUNNING" {
				running[l["job_id"]] = l["user"] + " " + l["account"] + " " + l["partition"]
			}
		}
		jobGPUs := map[string]float64{}
		for _, m := range h["gpuwd_slurm_job_gpus"].GetMetric() {
			jobGPUs[labels(m)["job_id"]] = m.GetGauge().GetValue()
		}
		nodeAlloc := map[string]float64{}
		for _, m := range h["slurm_node_gpu_alloc"].GetMetric() {
			nodeAlloc[labels(m)["node"]] = m.GetGauge().GetValue()
		}
		counted := map[string]float64{} // job id → GPUs the workers say it holds
		agents := map[string]map[string]*dto.MetricFamily{"gpu-node-h100": h}
		for name, w := range workers {
			agents[name] = gather(t, w)
		}
		for name, fams := range agents {
			jobs, allocated := heldGPUs(fams)
			if float64(allocated) != nodeAlloc[name] || len(jobs) != allocated {
				t.Errorf("%v: %s: %d GPUs allocated, %d with a job; the head says %v", at, name, allocated, len(jobs), nodeAlloc[name])
			}
			for gpu, j := range jobs {
				id, owner, _ := strings.Cut(j, " ")
				if running[id] != owner {
					t.Errorf("%v: %s GPU %s: job %s of %s; the head has %q", at, name, gpu, id, owner, running[id])
				}
				counted[id]++
				sawHeld++
			}
		}
		for id := range running {
			if counted[id] != jobGPUs[id] {
				t.Errorf("%v: job %s: the head says %v GPUs, the nodes hold %v", at, id, jobGPUs[id], counted[id])
			}
		}
	}
	if sawHeld == 0 {
		t.Error("no GPU was ever held")
	}
}

// A worker must be a node of the list with its GPUs; a head need not be.
func TestExporterRefusesANodeNotInTheList(t *testing.T) {
	cl := demoCluster(t, 1)
	c := &clock{t: moments(1)[0]}
	log := slog.New(slog.DiscardHandler)
	if _, err := NewExporter(cl, ExporterOptions{Role: RoleWorker, Node: "elsewhere"}, log); err == nil || !strings.Contains(err.Error(), "not in the node list") {
		t.Errorf("worker not in the list: err = %v", err)
	}
	if _, err := NewExporter(cl, ExporterOptions{Role: RoleWorker, Node: "gpu-node-l4", GPUs: make([]collector.GPU, 2)}, log); err == nil || !strings.Contains(err.Error(), "4 GPUs in the node list and 2") {
		t.Errorf("GPU count differs: err = %v", err)
	}
	e, err := NewExporter(cl, ExporterOptions{Role: RoleHead, Node: "controller", Now: c.now}, log)
	if err != nil {
		t.Fatal(err)
	}
	fams := gather(t, e)
	if fams["gpuwd_gpu_job_info"] != nil || len(fams["slurm_node_status"].GetMetric()) != 5 {
		t.Error("a head outside the list exports the cluster and no GPU jobs")
	}
	var daemons []string
	for _, m := range fams["gpuwd_slurm_daemon_up"].GetMetric() {
		daemons = append(daemons, labels(m)["daemon"])
	}
	if !slices.Equal(daemons, []string{"munged", "slurmctld"}) {
		t.Errorf("a head without slurmd runs %v", daemons)
	}
}
