package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

func gpus(n int) []GPU {
	g := make([]GPU, n)
	for i := range g {
		g[i] = GPU{Index: i, UUID: fmt.Sprintf("GPU-%08x-0000-0000-0000-000000000000", i)}
	}
	return g
}

// nodeRunner answers a node's squeue from testdata/<version>-squeue-node-
// <node>.txt and its scontrol show job from <version>-scontrol-job-<id>.txt.
func nodeRunner(t testing.TB, version, node string, jobs ...string) *fakeRunner {
	f := newFakeRunner()
	f.file(t, version+"-squeue-node-"+node+".txt", "squeue", parse.NodeJobsArgs(node)...)
	for _, id := range jobs {
		f.file(t, version+"-scontrol-job-"+id+".txt", "scontrol", parse.JobDetailArgs(id)...)
	}
	return f
}

// Recorded output through GPUJobs gives the golden exposition.
func TestGPUJobsGolden(t *testing.T) {
	tests := []struct {
		version, node string
		gpus          int
		jobs          []string
	}{
		{"22.05", "w1", 2, []string{"4"}},                 // one job, both GPUs
		{"22.05", "w2", 4, []string{"5", "6", "7"}},       // --gres, --gpus, part of a two-node job
		{"22.05", "w4", 3, []string{"7", "19"}},           // a100 + v100: GRES indices over both types
		{"22.05", "w5", 4, []string{"9"}},                 // suspended, untyped
		{"22.05", "w6", 8, []string{"8_1", "8_3", "8_4"}}, // array tasks, IDX 0, 2, 3
		{"22.05", "w7", 2, nil},                           // no jobs
		{"24.11", "gpu-07", 8, []string{"2001", "2000_5", "2010"}},
	}
	for _, tt := range tests {
		t.Run(tt.version+"-"+tt.node, func(t *testing.T) {
			j := NewGPUJobs(nodeRunner(t, tt.version, tt.node, tt.jobs...), tt.node, "host-"+tt.node, gpus(tt.gpus))
			if err := j.Update(context.Background()); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, j, tt.version+"-gpujobs-"+tt.node+".prom")
		})
	}
}

// A GRES index with no GPU of that index (slots past the node's GPUs) is
// left out.
func TestGPUJobsUnknownIndex(t *testing.T) {
	j := NewGPUJobs(nodeRunner(t, "22.05", "w6", "8_1", "8_3", "8_4"), "w6", "h", gpus(2))
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_job_info"); n != 1 {
		t.Errorf("%d job series, want 1 (GPU 0)", n)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_allocated"); n != 2 {
		t.Errorf("%d allocated series, want 2", n)
	}
}

// A job's detail is asked for once while it runs, again when it starts
// again, and forgotten when it leaves.
func TestGPUJobsCache(t *testing.T) {
	r := nodeRunner(t, "22.05", "w2", "5", "6", "7")
	j := NewGPUJobs(r, "w2", "h", gpus(4))
	ctx := context.Background()
	if err := j.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.called("scontrol"); n != 3 {
		t.Errorf("first Update: %d scontrol calls, want 3", n)
	}
	if err := j.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.called("scontrol"); n != 0 {
		t.Errorf("second Update: %d scontrol calls, want 0", n)
	}

	// Job 6 ends; job 5 is requeued and starts again.
	r.text("5|5|2026-11-23T06:00:00|root|physics|gpu\n7|7|2026-11-23T05:35:04|root|(null)|gpu\n",
		"squeue", parse.NodeJobsArgs("w2")...)
	if err := j.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.called("scontrol"); n != 1 {
		t.Errorf("after a requeue: %d scontrol calls, want 1", n)
	}
	if len(j.cache) != 2 {
		t.Errorf("cache holds %d jobs, want 2: %v", len(j.cache), j.cache)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_job_info"); n != 2 {
		t.Errorf("%d job series, want 2 (GPU 0 and 3)", n)
	}
}

// A job that ends between squeue and scontrol is left out, not an error,
// and asked for again if squeue shows it again.
func TestGPUJobsVanished(t *testing.T) {
	r := nodeRunner(t, "22.05", "w2", "5", "7")
	r.fail(errors.New("scontrol -d -o show job 6: slurm_load_jobs error: Invalid job id specified"),
		"scontrol", parse.JobDetailArgs("6")...)
	j := NewGPUJobs(r, "w2", "h", gpus(4))
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_job_info"); n != 2 {
		t.Errorf("%d job series, want 2 (jobs 5 and 7)", n)
	}
	r.called("")
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := r.called("scontrol"); n != 1 {
		t.Errorf("%d scontrol calls, want 1 (job 6 again)", n)
	}

	// scontrol answers, but about other jobs only.
	r.text("JobId=99 JobState=RUNNING   Nodes=w2 GRES=gpu:1(IDX:1)\n", "scontrol", parse.JobDetailArgs("6")...)
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_job_info"); n != 2 {
		t.Errorf("%d job series, want 2", n)
	}
}

func TestGPUJobsFails(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(r *fakeRunner)
		want   string
	}{
		{"squeue fails", func(r *fakeRunner) {
			r.fail(errors.New("squeue: error: Invalid node name specified"), "squeue", parse.NodeJobsArgs("w2")...)
		}, "run squeue: squeue: error: Invalid node name specified"},
		{"squeue garbage", func(r *fakeRunner) {
			r.text("5|5|2026\n", "squeue", parse.NodeJobsArgs("w2")...)
		}, "squeue output: line 1: 3 |-separated fields, want 6"},
		{"scontrol fails", func(r *fakeRunner) {
			r.fail(errors.New("slurm_load_jobs error: Unable to contact slurm controller"), "scontrol", parse.JobDetailArgs("6")...)
		}, "run scontrol show job 6: slurm_load_jobs error: Unable to contact slurm controller"},
		{"scontrol garbage", func(r *fakeRunner) {
			r.text("JobId=6   Nodes=w2 GRES=gpu:2(IDX:1-\n", "scontrol", parse.JobDetailArgs("6")...)
		}, "scontrol show job 6 output: line 1:"},
		{"scontrol bad hostlist", func(r *fakeRunner) {
			r.text("JobId=6   Nodes=w[2 GRES=gpu:2(IDX:1-2)\n", "scontrol", parse.JobDetailArgs("6")...)
		}, "scontrol show job 6 output: hostlist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nodeRunner(t, "22.05", "w2", "5", "6", "7")
			tt.break_(r)
			j := NewGPUJobs(r, "w2", "h", gpus(4))
			err := j.Update(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Update: %v, want …%s…", err, tt.want)
			}
			if n := testutil.CollectAndCount(j); n != 0 {
				t.Errorf("%d series after a failed Update, want none", n)
			}
		})
	}
}

// A failed Update after a good one leaves nothing to collect.
func TestGPUJobsFailAfterSuccess(t *testing.T) {
	r := nodeRunner(t, "22.05", "w2", "5", "6", "7")
	j := NewGPUJobs(r, "w2", "h", gpus(4))
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.fail(errExit, "squeue", parse.NodeJobsArgs("w2")...)
	if err := j.Update(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if n := testutil.CollectAndCount(j); n != 0 {
		t.Errorf("%d series", n)
	}
}

func TestGPUJobsHangs(t *testing.T) {
	h := hangRunner{started: make(chan struct{}, 1)}
	j := NewGPUJobs(h, "w2", "h", gpus(4))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-h.started
		cancel()
	}()
	if err := j.Update(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Update: %v, want context.Canceled", err)
	}
}

func TestGPUJobsConcurrent(t *testing.T) {
	j := NewGPUJobs(nodeRunner(t, "22.05", "w6", "8_1", "8_3", "8_4"), "w6", "h", gpus(8))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			if err := j.Update(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 50 {
		testutil.CollectAndCount(j)
	}
	<-done
}

// A job squeue lists twice gives its series once (a duplicate would fail
// the whole scrape).
func TestGPUJobsDuplicateLine(t *testing.T) {
	r := nodeRunner(t, "22.05", "w2", "5")
	r.text("5|5|2026-11-23T05:35:04|root|physics|gpu\n5|5|2026-11-23T05:35:04|root|physics|gpu\n",
		"squeue", parse.NodeJobsArgs("w2")...)
	j := NewGPUJobs(r, "w2", "h", gpus(4))
	if err := j.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(j, "gpuwd_gpu_job_info"); n != 1 {
		t.Errorf("%d job series, want 1", n)
	}
}
