package slurmsim

import (
	"context"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// The Runner answers what the collectors run, as Slurm would, and nothing
// else.
func TestRunnerAnswersLikeSlurm(t *testing.T) {
	c := &clock{t: moments(1)[0]}
	cl := demoCluster(t, 1)
	r := NewRunner(cl, c.now)
	ctx := context.Background()

	out, err := r.Run(ctx, "sinfo", parse.NodesArgs...)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := parse.Nodes(out)
	if err != nil || len(nodes) != 5 {
		t.Fatalf("sinfo: %d nodes, %v", len(nodes), err)
	}
	out, _ = r.Run(ctx, "squeue", parse.JobsArgs...)
	jobs, err := parse.Jobs(out)
	if err != nil || len(jobs) != len(cl.Jobs(c.now())) {
		t.Fatalf("squeue: %d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if j.State != "RUNNING" {
			continue
		}
		out, err := r.Run(ctx, "scontrol", parse.JobDetailArgs(j.ID)...)
		if err != nil {
			t.Fatal(err)
		}
		d, err := parse.JobDetails(out)
		if err != nil || len(d) != 1 || d[0].ID != j.ID {
			t.Fatalf("scontrol show job %s: %+v %v", j.ID, d, err)
		}
	}

	if _, err := r.Run(ctx, "scontrol", parse.JobDetailArgs("42")...); err == nil || !strings.Contains(err.Error(), "Invalid job id") {
		t.Errorf("a job slurmctld does not hold: err = %v", err)
	}
	if _, err := r.Run(ctx, "scancel", "42"); err == nil {
		t.Error("scancel is not simulated")
	}
	if _, err := r.Run(ctx, "sinfo", "-h"); err == nil {
		t.Error("only the collectors' arguments are simulated")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Run(cctx, "sdiag"); err == nil {
		t.Error("answered after the context ended")
	}
}

func TestIdxList(t *testing.T) {
	for want, idx := range map[string][]int{"": nil, "3": {3}, "0-3": {0, 1, 2, 3}, "0-1,4,6-7": {0, 1, 4, 6, 7}} {
		if got := idxList(idx); got != want {
			t.Errorf("idxList(%v) = %q, want %q", idx, got, want)
		}
	}
}
