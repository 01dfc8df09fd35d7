package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// benchCluster is a recorded-format cycle of a cluster with nodes nodes (in
// two partitions each) and jobs jobs in mixed states.
func benchCluster(b *testing.B, nodes, jobs int) *fakeRunner {
	states := []string{"mixed", "allocated", "idle", "drained", "mixed-", "down*", "draining", "idle~"}
	var sinfo strings.Builder
	for i := range nodes {
		st := states[i%len(states)]
		used := i % 9
		for _, p := range []string{"gpu", "all"} {
			fmt.Fprintf(&sinfo, "gpu-%03d|%s|%s|%d/%d/0/128|%d|1024000|gpu:h100:8(S:0-1)|gpu:h100:%d(IDX:0-%d)|%s\n",
				i, p, st, used*16, 128-used*16, used*64000, min(used, 8), max(min(used, 8)-1, 0), "none")
		}
	}
	jobStates := []string{"RUNNING", "RUNNING", "PENDING", "PENDING", "COMPLETED", "CANCELLED", "SUSPENDED", "FAILED", "COMPLETING", "TIMEOUT"}
	var squeue strings.Builder
	for i := range jobs {
		st := jobStates[i%len(jobStates)]
		reason := "None"
		if st == "PENDING" {
			reason = []string{"Resources", "Priority", "Dependency"}[i%3]
		}
		fmt.Fprintf(&squeue, "%d|%s|%s|user%02d|acct%d|16|2|2|gres:gpu:h100:2|N/A|N/A|cpu=16,mem=64G,node=2,billing=16|%s\n",
			1000+i, st, []string{"gpu", "all", "gpu,all"}[i%3], i%40, i%7, reason)
	}
	r := newFakeRunner()
	r.text(sinfo.String(), "sinfo", parse.NodesArgs...)
	r.text(squeue.String(), "squeue", parse.JobsArgs...)
	r.text(fmt.Sprintf("PartitionName=gpu Nodes=gpu-[000-%03d] State=UP TotalCPUs=%d TotalNodes=%d\n"+
		"PartitionName=all Nodes=gpu-[000-%03d] State=UP TotalCPUs=%d TotalNodes=%d\n",
		nodes-1, nodes*128, nodes, nodes-1, nodes*128, nodes), "scontrol", parse.PartitionsArgs...)
	r.file(b, "22.05-sdiag.txt", "sdiag")
	return r
}

// One head cycle for 100 nodes and 1,000 jobs.
func BenchmarkClusterUpdate(b *testing.B) {
	c := NewCluster(benchCluster(b, 100, 1000))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Update(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// One cycle of an 8-GPU node with 8 jobs, all known already.
func BenchmarkGPUJobsUpdate(b *testing.B) {
	r := newFakeRunner()
	var squeue strings.Builder
	for i := range 8 {
		id := fmt.Sprint(5000 + i)
		fmt.Fprintf(&squeue, "%s|%s|2026-11-23T05:35:04|user%d|acct|gpu\n", id, id, i)
		r.text(fmt.Sprintf("JobId=%s JobState=RUNNING NodeList=gpu-007   Nodes=gpu-007 CPU_IDs=%d Mem=100 GRES=gpu:h100:1(IDX:%d)\n", id, i, i),
			"scontrol", parse.JobDetailArgs(id)...)
	}
	r.text(squeue.String(), "squeue", parse.NodeJobsArgs("gpu-007")...)
	j := NewGPUJobs(r, "gpu-007", "host", gpus(8))
	ctx := context.Background()
	if err := j.Update(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Update(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if n := r.called("scontrol"); n != 8 {
		b.Errorf("%d scontrol calls, want 8 (the first Update only)", n)
	}
}
