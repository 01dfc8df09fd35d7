package parse

import (
	"fmt"
	"math"
	"strings"
)

// JobsArgs are squeue's arguments for Jobs: every job in every state that
// slurmctld still holds (-t all; finished ones for MinJobAge), hidden
// partitions too (-a), one line per array task (-r), Reason last.
var JobsArgs = []string{"-h", "-a", "-r", "-t", "all", "-O",
	"JobID:0|,State:0|,Partition:0|,UserName:0|,Account:0|,NumCPUs:0|,NumNodes:0|,NumTasks:0|," +
		"tres-per-node:0|,tres-per-job:0|,tres-per-task:0|,tres-alloc:0|,Reason:0"}

const jobFields = 13

// Job is one job of the queue.
type Job struct {
	ID        string
	State     string // PENDING, RUNNING, …
	Partition string // "gpu"; a pending job may name several: "gpu,debug"
	User      string
	Account   string // "" when the job has none
	CPUs      int
	Nodes     int
	GPUs      int // see JobGPUs
	Reason    string
}

// Jobs parses the output of squeue with JobsArgs.
func Jobs(out []byte) ([]Job, error) {
	var jobs []Job
	var f [jobFields]string
	err := eachLine(out, func(line string) error {
		if err := split(f[:], line); err != nil {
			return err
		}
		j := Job{ID: f[0], State: f[1], Partition: f[2], User: f[3], Account: noneIfNull(f[4]), Reason: f[12]}
		if j.ID == "" || j.State == "" {
			return fmt.Errorf("no JobID or State")
		}
		var err error
		if j.CPUs, err = count("NumCPUs", f[5]); err != nil {
			return err
		}
		if j.Nodes, err = count("NumNodes", f[6]); err != nil {
			return err
		}
		tasks, err := count("NumTasks", f[7])
		if err != nil {
			return err
		}
		if j.GPUs, err = JobGPUs(f[11], f[8], f[9], f[10], j.Nodes, tasks); err != nil {
			return err
		}
		jobs = append(jobs, j)
		return nil
	})
	return jobs, err
}

// JobGPUs counts the GPUs of a job. tres-alloc names them ("gres/gpu=4")
// only where Slurm accounts for GPUs (AccountingStorageTRES=gres/gpu);
// otherwise they come from the request: per node × nodes, per job, or per
// task × tasks, the first of those the job has.
func JobGPUs(alloc, perNode, perJob, perTask string, nodes, tasks int) (int, error) {
	if n, ok, err := TRESGPUs(alloc); err != nil || ok {
		return n, err
	}
	if n, ok, err := RequestGPUs(perNode); err != nil || ok {
		return times(n, max(nodes, 1), err)
	}
	if n, ok, err := RequestGPUs(perJob); err != nil || ok {
		return n, err
	}
	n, _, err := RequestGPUs(perTask)
	return times(n, max(tasks, 1), err)
}

// times is n × by, refusing a product that overflows (a corrupt line: the
// counts are each below 2³²).
func times(n, by int, err error) (int, error) {
	if err == nil && n > 0 && by > math.MaxInt/n {
		return 0, fmt.Errorf("%d GPUs × %d is not a count", n, by)
	}
	return n * by, err
}

// TRESGPUs returns the GPUs of a TRES list ("cpu=8,mem=32G,node=1,
// gres/gpu=4,gres/gpu:a100=4"): the untyped gres/gpu total, or else the
// sum of the typed ones. ok is false when the list has none.
func TRESGPUs(s string) (n int, ok bool, err error) {
	typed, hasTyped := 0, false
	for item := range strings.SplitSeq(s, ",") {
		key, val, found := strings.Cut(item, "=")
		if !found || key != "gres/gpu" && !strings.HasPrefix(key, "gres/gpu:") {
			continue
		}
		v, err := count(key, val)
		if err != nil {
			return 0, false, err
		}
		if key == "gres/gpu" {
			return v, true, nil
		}
		typed, hasTyped = typed+v, true
	}
	return typed, hasTyped, nil
}

// RequestGPUs returns the GPUs of a job's tres-per-node, -job or -task
// request: "gres:gpu:h100:2" (22.05), "gres/gpu:2" (23.02 and newer),
// "gpu:2", "gpu:rtx2080" (one). ok is false for "N/A" and requests without
// GPUs.
func RequestGPUs(s string) (n int, ok bool, err error) {
	if s == "N/A" || s == "" || s == "(null)" {
		return 0, false, nil
	}
	for item := range splitTop(s) {
		item = strings.TrimPrefix(strings.TrimPrefix(item, "gres:"), "gres/")
		item = strings.Replace(item, "=", ":", 1) // "gres/gpu=2"
		if item != "gpu" && !strings.HasPrefix(item, "gpu:") {
			continue
		}
		g, err := parseGRESItem(item)
		if err != nil {
			return 0, false, err
		}
		n, ok = n+g.Count, true
	}
	return n, ok, nil
}
