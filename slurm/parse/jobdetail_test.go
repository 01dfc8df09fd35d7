package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNodeJobs(t *testing.T) {
	jobs, err := NodeJobs(readTestdata(t, "22.05-squeue-node-w6.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeJob{
		{"10", "8_1", "2026-11-23T05:35:04", "nobody", "bio", "gpu"},
		{"12", "8_3", "2026-11-23T05:35:04", "nobody", "bio", "gpu"},
		{"8", "8_4", "2026-11-23T05:35:04", "nobody", "bio", "gpu"},
	}
	if !reflect.DeepEqual(jobs, want) {
		t.Errorf("got %+v\nwant %+v", jobs, want)
	}
	if jobs, err := NodeJobs(readTestdata(t, "22.05-squeue-node-w7.txt")); err != nil || len(jobs) != 0 {
		t.Errorf("idle node: %v, %v", jobs, err)
	}
	for _, bad := range []string{"10|8_1|2026-11-23T05:35:04\n", "garbage\n", "|8_1|x|u|a|p\n"} {
		var le *LineError
		if _, err := NodeJobs([]byte(bad)); !errors.As(err, &le) {
			t.Errorf("NodeJobs(%q): %v, want a LineError", bad, err)
		}
	}
}

func TestJobDetailsGPUIndices(t *testing.T) {
	tests := []struct {
		file, id, node string
		want           []int
	}{
		{"22.05-scontrol-job-5.txt", "5", "w2", []int{0}},                 // --gres=gpu:h100:1
		{"22.05-scontrol-job-6.txt", "6", "w2", []int{1, 2}},              // --gpus=2: IDX:1-2
		{"22.05-scontrol-job-7.txt", "7", "w2", []int{3}},                 // two nodes: w2 …
		{"22.05-scontrol-job-7.txt", "7", "w4", []int{0}},                 // … and w4, with an empty v100 IDX
		{"22.05-scontrol-job-7.txt", "7", "w6", nil},                      // not there
		{"22.05-scontrol-job-19.txt", "19", "w4", []int{2}},               // the v100 of an a100+v100 node
		{"22.05-scontrol-job-9.txt", "9", "w5", []int{0}},                 // untyped, suspended
		{"22.05-scontrol-job-4.txt", "4", "w1", []int{0, 1}},              // whole node
		{"22.05-scontrol-job-8_4.txt", "8", "w6", []int{3}},               // array task asked for by name
		{"22.05-scontrol-job-array-8.txt", "12", "w6", []int{2}},          // the whole array: every task
		{"22.05-scontrol-job-array-8.txt", "11", "w6", nil},               // cancelled task: GRES=
		{"24.11-scontrol-job-2001.txt", "2001", "gpu-07", []int{0, 5, 7}}, // two types, non-contiguous
		{"24.11-scontrol-job-2001.txt", "2001", "gpu-03", []int{0, 1, 2, 3}},
		{"24.11-scontrol-job-2000_5.txt", "2005", "gpu-07", []int{1, 2}},
		{"24.11-scontrol-job-2010.txt", "2010", "gpu-07", nil}, // a count-only GRES, no GPU
	}
	for _, tt := range tests {
		jobs, err := JobDetails(readTestdata(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		var job *JobDetail
		for i := range jobs {
			if jobs[i].ID == tt.id {
				job = &jobs[i]
			}
		}
		if job == nil {
			t.Fatalf("%s: no job %s in %+v", tt.file, tt.id, jobs)
		}
		got, err := job.GPUIndices(tt.node)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: job %s on %s: %v, %v; want %v", tt.file, tt.id, tt.node, got, err, tt.want)
		}
	}
}

func TestJobDetailsArray(t *testing.T) {
	jobs, err := JobDetails(readTestdata(t, "22.05-scontrol-job-array-8.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var ids, states []string
	for _, j := range jobs {
		ids, states = append(ids, j.ID), append(states, j.State)
	}
	if !reflect.DeepEqual(ids, []string{"8", "12", "11", "10"}) ||
		!reflect.DeepEqual(states, []string{"RUNNING", "RUNNING", "CANCELLED", "RUNNING"}) {
		t.Errorf("ids %v, states %v", ids, states)
	}
}

// Formats of Slurm before 22.05 (and from the multi-line output) still read.
func TestJobDetailsOlder(t *testing.T) {
	for _, tt := range []struct {
		line string
		want []int
	}{
		{"JobId=1 JobState=RUNNING   Nodes=node-06 CPU_IDs=10-11,15,21 Mem=81920 GRES_IDX=gpu(IDX:0,2-3,5)", []int{0, 2, 3, 5}},
		{"JobId=1 JobState=RUNNING   Nodes=node-06 CPU_IDs=20 Mem=8192 GRES=gpu(IDX:5)", []int{5}},
		{"JobId=1 JobState=RUNNING   Nodes=node-06 CPU_IDs=2-3,6-7,115- Mem=70000 GRES=", nil},
		{"JobId=1 JobState=RUNNING JOB_GRES=gg:g0:1,gpu:1   Nodes=node-06 CPU_IDs=14-15 Mem=1024 GRES=gg:g0(CNT:1),gpu:1(IDX:3) MinCPUsNode=2", []int{3}},
		{"JobId=1 JobState=RUNNING   Nodes=node-[05-07] CPU_IDs=0 Mem=1 GRES=gpu:(null):2(IDX:0-1)", []int{0, 1}},
	} {
		jobs, err := JobDetails([]byte(tt.line))
		if err != nil || len(jobs) != 1 {
			t.Fatalf("%q: %v, %v", tt.line, jobs, err)
		}
		if got, err := jobs[0].GPUIndices("node-06"); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.line, got, err, tt.want)
		}
	}
}

func TestJobDetailsBad(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{"slurm_load_jobs error: Invalid job id specified\n", "Key=Value"},
		{"JobName=x JobState=RUNNING\n", "no JobId"},
		{"JobId=1 GRES=gpu:1(IDX:0) Nodes=w1\n", "GRES before Nodes"},
		{"JobId=1   Nodes=w1 GRES=gpu:1(IDX:0-\n", "IDX"},
	} {
		_, err := JobDetails([]byte(tt.out))
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("JobDetails(%q): %v, want …%s…", tt.out, err, tt.want)
		}
	}
	jobs, err := JobDetails([]byte("JobId=1   Nodes=w[1- GRES=gpu:1(IDX:0)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs[0].GPUIndices("w1"); err == nil {
		t.Error("a bad hostlist is no error")
	}
}
