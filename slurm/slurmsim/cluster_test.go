package slurmsim

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// demoNodes is a cluster like the demo's: busy nodes, a drained one, an
// idle one.
const demoNodes = "gpu-node-h100:h100x8,gpu-node-a100:a100x8,gpu-node-h200:h200x8,gpu-node-l40s:l40sx4:drain,gpu-node-l4:4:idle"

func demoCluster(t testing.TB, seed uint64) *Cluster {
	t.Helper()
	nodes, err := ParseNodes(demoNodes)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(nodes, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock is a manual clock, safe to move while collectors read it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// moments are instants spread over a day, from a fixed start.
func moments(n int) []time.Time {
	start := time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))
	}
	return out
}

func TestParseNodes(t *testing.T) {
	nodes, err := ParseNodes(" a1:8, b-2:h100x4:drain ,c:1:IDLE,")
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeSpec{{"a1", 8, "", Up}, {"b-2", 4, "h100", Drain}, {"c", 1, "", Idle}}
	if !slices.Equal(nodes, want) {
		t.Errorf("ParseNodes = %+v, want %+v", nodes, want)
	}
	for s, msg := range map[string]string{
		"":             "no nodes",
		"a":            "want NAME:GPUS",
		"a:0":          "count from 1 to 64",
		"a:h100x":      "count from 1 to 64",
		"a:8:broken":   "want up, idle, drain or down",
		"a:8,a:4":      "listed twice",
		"bad name!:8":  "not a valid Slurm node name",
		"a:8:drain:x":  "want NAME:GPUS",
		"a:eightx8:up": "", // a GRES type may be any word
	} {
		_, err := ParseNodes(s)
		if msg == "" {
			if err != nil {
				t.Errorf("ParseNodes(%q): %v", s, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseNodes(%q): err = %v, want %q", s, err, msg)
		}
	}
}

func TestSameListAndSeedSameCluster(t *testing.T) {
	at := moments(1)[0]
	a, b, other := demoCluster(t, 7), demoCluster(t, 7), demoCluster(t, 8)
	if !slices.EqualFunc(a.Jobs(at), b.Jobs(at), sameJob) {
		t.Error("the same list and seed gave other jobs")
	}
	if slices.EqualFunc(a.Jobs(at), other.Jobs(at), sameJob) {
		t.Error("another seed gave the same jobs")
	}
}

func sameJob(a, b Job) bool {
	return a.ID == b.ID && a.User == b.User && a.State == b.State && a.Node == b.Node && slices.Equal(a.GPUIdx, b.GPUIdx)
}

// Over a day the cluster looks like a busy one: every node state of the
// list, pending jobs for the usual reasons in both partitions, jobs that
// hold GPUs and do nothing, ids that never collide.
func TestADayOfTheCluster(t *testing.T) {
	c := demoCluster(t, 1)
	states := map[string]bool{}
	reasons := map[string]bool{}
	partitions := map[string]bool{}
	finals := map[string]bool{}
	idleHeld, busy := 0, 0
	for _, at := range moments(200) {
		jobs := c.Jobs(at)
		ids := map[uint32]bool{}
		for _, j := range jobs {
			if ids[j.ID] {
				t.Fatalf("%v: job id %d twice", at, j.ID)
			}
			ids[j.ID] = true
			partitions[j.Partition] = true
			switch j.State {
			case "PENDING":
				reasons[strings.Fields(j.Reason)[0]] = true
			case "RUNNING":
				if j.Load == 0 {
					idleHeld++
				} else {
					busy++
				}
			default:
				finals[j.State] = true
			}
		}
		held := map[string]int{}
		for _, n := range c.NodeStatuses(jobs) {
			states[n.State] = true
			if (n.State == "drained") != (n.Reason != "") {
				t.Errorf("%v: node %s is %s with reason %q", at, n.Name, n.State, n.Reason)
			}
			held[n.Name] = len(n.GPUIdx)
		}
		if held["gpu-node-l40s"] != 0 || held["gpu-node-l4"] != 0 {
			t.Errorf("%v: jobs on the drained or idle node: %v", at, held)
		}
	}
	for _, want := range []string{"drained", "idle", "mixed"} {
		if !states[want] {
			t.Errorf("no node was ever %s (saw %v)", want, states)
		}
	}
	for _, want := range []string{"Resources", "Priority", "QOSMaxGRESPerUser", "Dependency", "ReqNodeNotAvail,"} {
		if !reasons[want] {
			t.Errorf("no job ever pended for %s (saw %v)", want, reasons)
		}
	}
	if !partitions["gpu"] || !partitions["debug"] {
		t.Errorf("jobs only in %v", partitions)
	}
	if !finals["COMPLETED"] || !finals["FAILED"] {
		t.Errorf("finished jobs only %v", finals)
	}
	if idleHeld == 0 || busy < 3*idleHeld {
		t.Errorf("%d running jobs doing nothing and %d working: want a few idle among many busy", idleHeld, busy)
	}
}

// A GPU's job, as its simulated GPU asks for it, is the job the cluster
// runs on it.
func TestGPUJobIsTheClustersJob(t *testing.T) {
	c := demoCluster(t, 1)
	for _, at := range moments(100) {
		onGPU := map[string]uint32{}
		for _, j := range c.Jobs(at) {
			for _, g := range j.GPUIdx {
				onGPU[j.Node+"/"+string(rune('0'+g))] = j.ID
			}
		}
		for _, n := range c.Nodes() {
			for g := range n.GPUs {
				j, ok := c.GPUJob(n.Name, g, at)
				want, held := onGPU[n.Name+"/"+string(rune('0'+g))]
				if ok != held || ok && j.ID != want {
					t.Fatalf("%v: %s GPU %d: GPUJob = %d %v, cluster has %d %v", at, n.Name, g, j.ID, ok, want, held)
				}
			}
		}
	}
}
