package collector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// Recorded output through a Cluster gives the golden exposition: 22.05 as
// captured on a real cluster, 24.11 in the newer formats (see
// ../parse/testdata/README.md).
func TestClusterGolden(t *testing.T) {
	for _, version := range []string{"22.05", "24.11"} {
		t.Run(version, func(t *testing.T) {
			c := NewCluster(clusterRunner(t, version))
			if err := c.Update(context.Background()); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, c, version+"-cluster.prom")
		})
	}
}

// Without sdiag only the scheduler series are missing.
func TestClusterWithoutSdiag(t *testing.T) {
	r := clusterRunner(t, "22.05")
	r.fail(errors.New("sdiag: not installed"), "sdiag")
	c := NewCluster(r)
	if err := c.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "slurm_scheduler_threads", "slurm_total_backfilled_jobs_since_start"); n != 0 {
		t.Errorf("%d scheduler series without sdiag", n)
	}
	if n := testutil.CollectAndCount(c, "slurm_nodes_total"); n != 1 {
		t.Errorf("%d slurm_nodes_total", n)
	}
}

// Garbage from sdiag is the same as no sdiag.
func TestClusterBadSdiag(t *testing.T) {
	r := clusterRunner(t, "22.05")
	r.text("sdiag: error: slurm_get_statistics: Unable to contact slurm controller\n", "sdiag")
	c := NewCluster(r)
	if err := c.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "slurm_scheduler_threads"); n != 0 {
		t.Errorf("%d slurm_scheduler_threads", n)
	}
}

// A cluster with no nodes, jobs or partitions still has every total, at 0.
func TestClusterEmpty(t *testing.T) {
	r := newFakeRunner()
	r.text("", "sinfo", parse.NodesArgs...)
	r.text("", "squeue", parse.JobsArgs...)
	r.text("No partitions in the system\n", "scontrol", parse.PartitionsArgs...)
	r.file(t, "24.11-sdiag.txt", "sdiag")
	c := NewCluster(r)
	if err := c.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	const want = `
# HELP slurm_nodes_total Nodes in the cluster, each counted once.
# TYPE slurm_nodes_total gauge
slurm_nodes_total 0
# HELP slurm_gpus_utilization Allocated GPUs / total GPUs (0 without GPUs).
# TYPE slurm_gpus_utilization gauge
slurm_gpus_utilization 0
# HELP slurm_queue_pending Jobs in state PENDING (finished ones for MinJobAge).
# TYPE slurm_queue_pending gauge
slurm_queue_pending 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"slurm_nodes_total", "slurm_gpus_utilization", "slurm_queue_pending"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "slurm_node_status", "slurm_partition_cpus_total", "slurm_user_jobs_running"); n != 0 {
		t.Errorf("%d per-node, -partition or -user series without any", n)
	}
}

// A required command that fails, or prints what cannot be parsed, fails the
// Update with the command and the line, and the Cluster collects nothing
// until an Update succeeds.
func TestClusterFails(t *testing.T) {
	nodeLine := "w1|gpu|idle|0/4/0/4|0|4000|gpu:h100:2|gpu:h100:0(IDX:N/A)|none\n"
	tests := []struct {
		name   string
		break_ func(r *fakeRunner)
		want   string
	}{
		{"sinfo fails", func(r *fakeRunner) {
			r.fail(errors.New("sinfo: Unable to contact slurm controller"), "sinfo", parse.NodesArgs...)
		}, "run sinfo: sinfo: Unable to contact slurm controller"},
		{"sinfo garbage", func(r *fakeRunner) {
			r.text("<html>proxy error</html>\n", "sinfo", parse.NodesArgs...)
		}, "sinfo output: line 1: 1 |-separated fields, want 9"},
		{"sinfo truncated line", func(r *fakeRunner) {
			r.text(nodeLine+nodeLine+"w3|gpu|idle|0/4/0/4|0", "sinfo", parse.NodesArgs...)
		}, "sinfo output: line 3: 5 |-separated fields, want 9"},
		{"sinfo wrong field count", func(r *fakeRunner) {
			r.text("w1|gpu|idle|0/4/0/4\n", "sinfo", parse.NodesArgs...)
		}, "sinfo output: line 1: 4 |-separated fields, want 9"},
		{"squeue fails", func(r *fakeRunner) {
			r.fail(errExit, "squeue", parse.JobsArgs...)
		}, "run squeue: exit status 1"},
		{"squeue garbage", func(r *fakeRunner) {
			r.text("4|RUNNING|gpu|root|(null)|lots|1|1|N/A|N/A|N/A|cpu=4|None\n", "squeue", parse.JobsArgs...)
		}, `squeue output: line 1: NumCPUs "lots" is not a count`},
		{"scontrol fails", func(r *fakeRunner) {
			r.fail(errExit, "scontrol", parse.PartitionsArgs...)
		}, "run scontrol: exit status 1"},
		{"scontrol garbage", func(r *fakeRunner) {
			r.text("PartitionName=gpu TotalCPUs=x\n", "scontrol", parse.PartitionsArgs...)
		}, `scontrol output: line 1: TotalCPUs "x" is not a count`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clusterRunner(t, "22.05")
			c := NewCluster(r)
			if err := c.Update(context.Background()); err != nil {
				t.Fatal(err)
			}
			tt.break_(r)
			err := c.Update(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Update: %v, want …%s…", err, tt.want)
			}
			if n := testutil.CollectAndCount(c); n != 0 {
				t.Errorf("%d series after a failed Update, want none", n)
			}
			fixed := clusterRunner(t, "22.05")
			r.mu.Lock()
			r.out, r.errs = fixed.out, fixed.errs
			r.mu.Unlock()
			if err := c.Update(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := testutil.CollectAndCount(c, "slurm_nodes_total"); n != 1 {
				t.Errorf("no series after a good Update")
			}
		})
	}
}

// A Cluster collects nothing before its first Update.
func TestClusterBeforeUpdate(t *testing.T) {
	if n := testutil.CollectAndCount(NewCluster(newFakeRunner())); n != 0 {
		t.Errorf("%d series", n)
	}
}

// Update returns when its context ends, however long Slurm takes.
func TestClusterHangs(t *testing.T) {
	h := hangRunner{started: make(chan struct{}, 1)}
	c := NewCluster(h)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-h.started
		cancel()
	}()
	if err := c.Update(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Update: %v, want context.Canceled", err)
	}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("%d series", n)
	}
}

// Collect and Update may run at once (run with -race).
func TestClusterConcurrent(t *testing.T) {
	c := NewCluster(clusterRunner(t, "22.05"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if err := c.Update(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				testutil.CollectAndCount(c)
			}
		})
	}
	wg.Wait()
}
