package parse

import (
	"errors"
	"strings"
	"testing"
)

// What squeue printed on the real Slurm 22.05.8 cluster: GPUs asked for
// with --gres (tres-per-node), --gpus (tres-per-job), --gpus-per-task, no
// GPU accounting (tres-alloc without gres/gpu).
func TestJobs2205(t *testing.T) {
	jobs, err := Jobs(readTestdata(t, "22.05-squeue-jobs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 19 {
		t.Fatalf("%d jobs, want 19", len(jobs))
	}
	byID := map[string]Job{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	for _, tt := range []struct {
		id, state, part, user, account string
		cpus, nodes, gpus              int
	}{
		{"4", "RUNNING", "gpu", "root", "", 4, 1, 2},           // --gres=gpu:h100:2
		{"6", "RUNNING", "gpu", "nobody", "bio", 1, 1, 2},      // --gpus=2
		{"7", "RUNNING", "gpu", "root", "", 2, 2, 2},           // -n2 --gpus-per-task=1
		{"16", "PENDING", "gpu", "root", "", 2, 1, 4},          // -n2 --gpus-per-task=2, held
		{"19", "RUNNING", "debug", "root", "physics", 1, 1, 1}, // --gres=gpu:v100:1
		{"9", "SUSPENDED", "gpu", "root", "", 1, 1, 1},
		{"17", "PENDING", "gpu,debug", "root", "", 9, 9, 0},
		{"3", "CANCELLED", "gpu", "root", "", 1, 1, 0}, // NumTasks 4294967294
	} {
		j := byID[tt.id]
		if j.State != tt.state || j.Partition != tt.part || j.User != tt.user || j.Account != tt.account ||
			j.CPUs != tt.cpus || j.Nodes != tt.nodes || j.GPUs != tt.gpus {
			t.Errorf("job %s: %+v", tt.id, j)
		}
	}
	if r := byID["15"].Reason; r != "Dependency" {
		t.Errorf("job 15 reason %q", r)
	}
	if r := byID["14"].Reason; r != "ReqNodeNotAvail, UnavailableNodes:w[3,6,8-9]" {
		t.Errorf("job 14 reason %q", r)
	}
}

// The 23.02+ request format and tres-alloc with GPU accounting.
func TestJobsNewer(t *testing.T) {
	jobs, err := Jobs(readTestdata(t, "24.11-squeue-jobs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gpus := map[string]int{}
	for _, j := range jobs {
		gpus[j.ID] = j.GPUs
	}
	for id, want := range map[string]int{
		"101": 4,  // tres-alloc gres/gpu=4
		"102": 2,  // tres-alloc, not tres-per-job × nodes
		"103": 1,  // pending, tres-per-node
		"104": 2,  // tres-per-job
		"116": 4,  // tres-per-task × 4 tasks
		"117": 0,  // none
		"118": 32, // tres-per-node 4 × 8 nodes
	} {
		if gpus[id] != want {
			t.Errorf("job %s: %d GPUs, want %d", id, gpus[id], want)
		}
	}
}

func TestJobGPUs(t *testing.T) {
	tests := []struct {
		alloc, perNode, perJob, perTask string
		nodes, tasks, want              int
	}{
		{"cpu=1,gres/gpu=3", "gres:gpu:1", "N/A", "N/A", 2, 2, 3},
		{"cpu=1", "gres:gpu:2", "N/A", "N/A", 3, 3, 6},
		{"cpu=1", "N/A", "gres:gpu:5", "N/A", 3, 3, 5},
		{"cpu=1", "N/A", "N/A", "gres:gpu:2", 1, 4, 8},
		{"cpu=1", "N/A", "N/A", "gres:gpu:2", 1, 0, 2}, // tasks unknown
		{"cpu=1", "N/A", "N/A", "N/A", 1, 1, 0},
	}
	for _, tt := range tests {
		got, err := JobGPUs(tt.alloc, tt.perNode, tt.perJob, tt.perTask, tt.nodes, tt.tasks)
		if err != nil || got != tt.want {
			t.Errorf("JobGPUs(%+v) = %d, %v", tt, got, err)
		}
	}
}

func TestJobsEmpty(t *testing.T) {
	if jobs, err := Jobs(nil); err != nil || len(jobs) != 0 {
		t.Errorf("Jobs(nil) = %v, %v", jobs, err)
	}
}

func TestJobsBad(t *testing.T) {
	good := "4|RUNNING|gpu|root|(null)|4|1|1|gres:gpu:h100:2|N/A|N/A|cpu=4,mem=1000M,node=1,billing=4|None\n"
	tests := []struct {
		name, out, want string
		line            int
	}{
		{"garbage", "squeue: error: Invalid user: nobody2\n", "fields", 1},
		{"truncated line", good + "5|RUNNING|gpu|root\n", "4 |-separated fields, want 13", 2},
		{"bad NumCPUs", "4|RUNNING|gpu|root|(null)|four|1|1|N/A|N/A|N/A|cpu=4|None\n", "NumCPUs", 1},
		{"bad NumNodes", "4|RUNNING|gpu|root|(null)|4|-1|1|N/A|N/A|N/A|cpu=4|None\n", "NumNodes", 1},
		{"bad NumTasks", "4|RUNNING|gpu|root|(null)|4|1|x|N/A|N/A|N/A|cpu=4|None\n", "NumTasks", 1},
		{"bad GPU request", good + "4|RUNNING|gpu|root|(null)|4|1|1|gres:gpu:h100:x|N/A|N/A|cpu=4|None\n", "count", 2},
		{"bad tres-alloc", "4|RUNNING|gpu|root|(null)|4|1|1|N/A|N/A|N/A|cpu=4,gres/gpu=many|None\n", "gres/gpu", 1},
		{"no id", "|RUNNING|gpu|root|(null)|4|1|1|N/A|N/A|N/A|cpu=4|None\n", "JobID", 1},
	}
	for _, tt := range tests {
		_, err := Jobs([]byte(tt.out))
		var le *LineError
		if !errors.As(err, &le) || le.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want line %d: …%s…", tt.name, err, tt.line, tt.want)
		}
	}
}

func TestJobsArgs(t *testing.T) {
	format := JobsArgs[len(JobsArgs)-1]
	if !strings.HasSuffix(format, ",Reason:0") {
		t.Errorf("Reason is not the last field: %s", format)
	}
	if n := strings.Count(format, ",") + 1; n != jobFields {
		t.Errorf("%d fields asked for, %d parsed", n, jobFields)
	}
	format = NodeJobsArgs("w1")[len(NodeJobsArgs("w1"))-1]
	if n := strings.Count(format, ",") + 1; n != nodeJobFields {
		t.Errorf("%d fields asked for, %d parsed", n, nodeJobFields)
	}
}
