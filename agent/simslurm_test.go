package agent

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/slurm"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmsim"
)

const simNodes = "gpu-node-h100:h100x8,gpu-node-a100:a100x8,gpu-node-l40s:l40sx4:drain"

// Simulated GPUs work as their Slurm job does: no job, no work and no
// memory; a job that holds a GPU and does nothing keeps its memory and
// leaves it at 0%; a working job keeps it busy.
func TestSimulatedGPUsFollowTheirSlurmJobs(t *testing.T) {
	nodes, err := slurmsim.ParseNodes(simNodes)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := slurmsim.New(nodes, 5)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)
	now := start
	lib, err := sim.New(sim.Options{Spec: "h100x8", Seed: 1, Now: func() time.Time { return now },
		Schedule: gpuSchedule(cluster, "gpu-node-h100")})
	if err != nil {
		t.Fatal(err)
	}
	type gpuState struct {
		job   uint32
		since time.Time
	}
	last := make([]gpuState, 8)
	busy := map[uint32][2]float64{} // job → utilisation sum, seconds
	loads := map[uint32]float64{}
	var unheld, heldIdle int
	for now = start; now.Before(start.Add(3 * time.Hour)); now = now.Add(time.Second) {
		for i, d := range lib.Devices() {
			j, held := cluster.GPUJob("gpu-node-h100", i, now)
			if j.ID != last[i].job {
				last[i] = gpuState{j.ID, now}
			}
			u, _ := d.GetUtilizationRates()
			m, _ := d.GetMemoryInfo_v2()
			if now.Sub(last[i].since) < 30*time.Second {
				continue // the GPU is changing over
			}
			switch {
			case !held:
				unheld++
				if u.Gpu != 0 || m.Used != 0 {
					t.Fatalf("%v: GPU %d holds no job and is at %d%% with %d MiB", now, i, u.Gpu, m.Used>>20)
				}
			case j.Load == 0:
				heldIdle++
				if u.Gpu != 0 || m.Used == 0 {
					t.Fatalf("%v: GPU %d's job %d does nothing and the GPU is at %d%% with %d MiB", now, i, j.ID, u.Gpu, m.Used>>20)
				}
			default:
				b := busy[j.ID]
				busy[j.ID] = [2]float64{b[0] + float64(u.Gpu), b[1] + 1}
				loads[j.ID] = j.Load
			}
		}
	}
	if unheld == 0 || heldIdle == 0 || len(busy) < 5 {
		t.Fatalf("3 hours had %d idle GPU-seconds, %d held and idle, %d working jobs: not the mix wanted", unheld, heldIdle, len(busy))
	}
	for id, b := range busy {
		if avg := b[0] / b[1]; avg < loads[id]*0.6 {
			t.Errorf("job %d works at %.0f%% and its GPUs averaged %.0f%%", id, loads[id], avg)
		}
	}
}

// A simulated agent in a simulated Slurm cluster exports the cluster (the
// head) and which job holds which of its GPUs.
func TestSimulatedSlurmHead(t *testing.T) {
	a := serve(t, Options{Simulate: "h100x8", Hostname: "gpu-node-h100.example", SimulateSlurm: "head",
		SimulateSlurmNodes: simNodes, SimulateSlurmSeed: 2, Slurm: slurm.DefaultOptions()})
	_, body := get(t, a.url+"/metrics")
	for _, want := range []string{
		`gpuwd_slurm_node_info{cluster="gpuwd",node="gpu-node-h100",role="head"} 1`,
		"\ngpuwd_slurm_up 1\n",
		`slurm_node_status{node="gpu-node-l40s",reason=`,
		`slurm_partition_gpus_total{partition="gpu"} 20`,
		`gpuwd_slurm_daemon_up{daemon="slurmctld"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	allocated := regexp.MustCompile(`(?m)^gpuwd_gpu_allocated\{.*hostname="gpu-node-h100.example".*\} 1$`).FindAllString(body, -1)
	held := regexp.MustCompile(`(?m)^gpuwd_gpu_job_info\{.*\} 1$`).FindAllString(body, -1)
	if n := strings.Count(body, "\ngpuwd_gpu_allocated{"); n != 8 {
		t.Errorf("%d gpuwd_gpu_allocated series, want 8", n)
	}
	if len(allocated) != len(held) {
		t.Errorf("%d GPUs allocated and %d gpuwd_gpu_job_info series", len(allocated), len(held))
	}
}

func TestSimulatedSlurmOptionsAreClearErrors(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{SimulateSlurm: "head", SimulateSlurmNodes: simNodes}, "--simulate-slurm needs --simulate"},
		{Options{Simulate: "h100x8", SimulateSlurm: "boss", SimulateSlurmNodes: simNodes}, `--simulate-slurm "boss"`},
		{Options{Simulate: "h100x8", SimulateSlurm: "head"}, "needs --simulate-slurm-nodes"},
		{Options{Simulate: "h100x8", SimulateSlurm: "head", SimulateSlurmNodes: "a:0"}, "--simulate-slurm-nodes"},
		{Options{Simulate: "h100x8", SimulateSlurmNodes: simNodes}, "--simulate-slurm-nodes needs --simulate-slurm"},
		{Options{Simulate: "h100x8", SimulateSlurm: "head", SimulateSlurmNodes: simNodes, SimulateStable: true}, "--simulate-stable"},
		{Options{Simulate: "h100x8", SimulateSlurm: "worker", SimulateSlurmNodes: simNodes, Hostname: "elsewhere"}, "not in the node list"},
		{Options{Simulate: "h100x4", SimulateSlurm: "worker", SimulateSlurmNodes: simNodes, Hostname: "gpu-node-a100"}, "8 GPUs in the node list and 4"},
	} {
		c.opts.SampleInterval = time.Second
		c.opts.Slurm.CollectInterval = time.Second
		if c.opts.Hostname == "" {
			c.opts.Hostname = "gpu-node-h100"
		}
		_, err := New(c.opts, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.opts, err, c.want)
		}
	}
}
