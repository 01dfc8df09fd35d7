package slurmsim

import (
	"cmp"
	"slices"
	"time"
)

// origin is where every timetable starts; slots are counted from it.
var origin = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// minJobAge is how long slurmctld keeps a finished job (MinJobAge).
const minJobAge = 300

// Job ids are (start minute × lanes + lane) modulo idSpan, from firstID:
// unique among the jobs alive at one time, and growing with start time.
const (
	firstID = 100000
	idSpan  = 8_000_000
)

// lane is a block of GPUs that runs one job after another, in slots of
// period seconds: each job is submitted during the previous slot, starts a
// little after its slot begins and ends when it is over, earlier if it
// fails. A lane without GPUs (count 0) is the backlog: jobs that wait for
// their whole slot.
type lane struct {
	idx         int
	key         uint64
	node        int // index in Cluster.nodes
	first       int // the GPUs first, first+1, … first+count-1
	count       int
	period      int64
	offset      int64
	interactive bool // one session that holds a GPU for hours and does nothing
	backlog     *backlogJob
}

// Job is a job of the simulated queue.
type Job struct {
	ID        uint32
	Name      string // the job's name: train-llm, jupyter, …
	User      string
	Account   string
	Partition string
	Node      string // where it runs; "" for a pending job of the backlog
	GPUIdx    []int  // the GPUs it holds on Node (running jobs)
	GPUs      int    // GPUs asked for
	Nodes     int    // nodes asked for
	CPUs      int
	MemMB     int64
	GRESType  string // the GPUs' GRES type; "" untyped

	Submit, Start, End int64   // Unix seconds; a backlog job never starts
	Final              string  // the state it ends in: COMPLETED, FAILED, CANCELLED, TIMEOUT
	PendReason         string  // why it waits before it starts
	Load               float64 // typical GPU utilisation, 0-100; 0: holds its GPUs and does nothing
	MemFrac            float64 // share of each GPU's memory it fills

	State  string // at the moment asked for: PENDING, RUNNING or Final
	Reason string // squeue's reason at that moment ("None" when none)
}

// running reports whether j holds its GPUs at t.
func (j Job) running(t int64) bool { return j.Node != "" && j.Start <= t && t < j.End }

// users and their accounts, the first ones with more jobs.
type user struct {
	name, account string
	weight        int
}

var users = []user{
	{"alice", "ml-research", 4}, {"bob", "ml-research", 3}, {"carol", "vision", 3},
	{"dave", "nlp", 2}, {"erin", "nlp", 2}, {"frank", "infra", 1},
}

// kinds of job: what they are called and how hard they work their GPUs.
var kinds = []struct {
	names             []string
	weight            int
	load, mem         [2]float64 // ranges
	cpuShare, memGPUs float64    // of the node's CPUs and memory per GPU
}{
	{[]string{"train-llm", "pretrain-moe", "finetune-sd", "train-resnet", "rlhf-ppo"}, 68, [2]float64{80, 98}, [2]float64{0.6, 0.95}, 1, 0.8},
	{[]string{"eval-mmlu", "infer-bench", "embed-corpus"}, 17, [2]float64{30, 65}, [2]float64{0.3, 0.6}, 0.5, 0.4},
	{[]string{"jupyter", "interactive", "bash"}, 8, [2]float64{0, 0}, [2]float64{0.01, 0.03}, 0.25, 0.1},
}

var pendReasons = []struct {
	reason string
	weight int
}{{"Resources", 45}, {"Priority", 30}, {"QOSMaxGRESPerUser", 15}, {"Dependency", 10}}

// pick draws an index by weight.
func pick(d *draw, n int, weight func(int) int) int {
	total := 0
	for i := range n {
		total += weight(i)
	}
	r := d.intn(total)
	for i := range n {
		if r -= weight(i); r < 0 {
			return i
		}
	}
	return n - 1
}

// slotOf is the slot of l that t falls in.
func (l *lane) slotOf(t int64) int64 {
	s := t - origin - l.offset
	if s < 0 {
		return (s+1)/l.period - 1
	}
	return s / l.period
}

// job is the job of l's slot k; false when the slot has none.
func (c *Cluster) job(l *lane, k int64) (Job, bool) {
	if l.backlog != nil {
		return c.backlogJob(l, k), true
	}
	d := newDraw(c.seed, l.key, uint64(k), 3)
	n := &c.nodes[l.node]
	slot := origin + l.offset + k*l.period
	if !l.interactive && d.float() < 0.12 {
		return Job{}, false // nothing was queued for this block
	}
	u := users[pick(&d, len(users), func(i int) int { return users[i].weight })]
	kind := kinds[pick(&d, len(kinds), func(i int) int { return kinds[i].weight })]
	if l.interactive {
		kind = kinds[2]
	}
	j := Job{User: u.name, Account: u.account, Partition: "gpu", Node: n.Name, GPUs: l.count, Nodes: 1,
		GRESType: n.Type, Final: "COMPLETED", Reason: "None"}
	j.Name = kind.names[d.intn(len(kind.names))]
	j.Load = d.between(kind.load[0], kind.load[1])
	j.MemFrac = d.between(kind.mem[0], kind.mem[1])
	j.CPUs = max(1, int(float64(l.count*cpusPerGPU)*kind.cpuShare))
	j.MemMB = int64(float64(l.count*memMBPerGPU) * kind.memGPUs)
	if len(n.parts) > 1 && l.count <= 2 && d.float() < 0.5 {
		j.Partition = "debug"
	}
	gap := l.period * int64(2+d.intn(10)) / 100
	if l.interactive {
		gap = int64(60 + d.intn(240))
	}
	j.Start, j.End = slot+gap, slot+l.period
	j.Submit = slot - l.period*int64(10+d.intn(70))/100
	if l.interactive { // asked for when wanted
		j.Submit = j.Start - int64(60+d.intn(540))
	}
	j.PendReason = pendReasons[pick(&d, len(pendReasons), func(i int) int { return pendReasons[i].weight })].reason
	if !l.interactive {
		switch r := d.float(); {
		case r < 0.08:
			j.Final, j.End = "FAILED", j.Start+(j.End-j.Start)*int64(5+d.intn(40))/100
		case r < 0.13:
			j.Final, j.End = "CANCELLED", j.Start+(j.End-j.Start)*int64(20+d.intn(60))/100
		case r < 0.17:
			j.Final = "TIMEOUT"
		}
	}
	for g := l.first; g < l.first+l.count; g++ {
		j.GPUIdx = append(j.GPUIdx, g)
	}
	j.ID = c.jobID(j.Start, l.idx)
	return j, true
}

func (c *Cluster) jobID(start int64, lane int) uint32 {
	minute := (start - origin) / 60
	return uint32(firstID + ((minute*int64(len(c.lanes))+int64(lane))%idSpan+idSpan)%idSpan)
}

// at sets the job's state and reason at t; false when slurmctld does not
// hold it then (not submitted yet, or finished more than MinJobAge ago).
func (j *Job) at(t int64) bool {
	switch {
	case t < j.Submit:
		return false
	case t < j.Start:
		j.State, j.Reason = "PENDING", j.PendReason
	case t < j.End:
		j.State, j.Reason = "RUNNING", "None"
	case t < j.End+minJobAge && j.Node != "":
		j.State, j.Reason = j.Final, "None"
		switch j.Final {
		case "FAILED":
			j.Reason = "NonZeroExitCode"
		case "TIMEOUT":
			j.Reason = "TimeLimit"
		}
	default:
		return false
	}
	if j.State != "RUNNING" {
		j.GPUIdx = nil
	}
	return true
}

// laneJobs appends the jobs of l that slurmctld holds at t: at most the
// previous slot's (finished), the current one's and the next one's
// (submitted during this slot).
func (c *Cluster) laneJobs(jobs []Job, l *lane, t int64) []Job {
	k := l.slotOf(t)
	for s := k - 1; s <= k+1; s++ {
		if j, ok := c.job(l, s); ok && j.at(t) {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// Jobs returns the jobs slurmctld holds at t, by id: pending, running, and
// finished within MinJobAge.
func (c *Cluster) Jobs(t time.Time) []Job {
	var jobs []Job
	for i := range c.lanes {
		jobs = c.laneJobs(jobs, &c.lanes[i], t.Unix())
	}
	slices.SortFunc(jobs, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	return jobs
}

// NodeJobs returns the jobs running on node at t, by id.
func (c *Cluster) NodeJobs(node string, t time.Time) []Job {
	i, ok := c.byName[node]
	if !ok {
		return nil
	}
	var jobs []Job
	for li := range c.lanes {
		if l := &c.lanes[li]; l.backlog == nil && l.node == i {
			for _, j := range c.laneJobs(nil, l, t.Unix()) {
				if j.State == "RUNNING" {
					jobs = append(jobs, j)
				}
			}
		}
	}
	slices.SortFunc(jobs, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	return jobs
}

// GPUJob returns the job that holds GPU gpu of node at t, if one does. The
// simulated GPU asks it every second: it looks at one slot of one lane.
func (c *Cluster) GPUJob(node string, gpu int, t time.Time) (Job, bool) {
	i, ok := c.byName[node]
	if !ok || gpu < 0 || gpu >= len(c.nodes[i].gpuLane) || c.nodes[i].gpuLane[gpu] < 0 {
		return Job{}, false
	}
	l := &c.lanes[c.nodes[i].gpuLane[gpu]]
	ts := t.Unix()
	j, ok := c.job(l, l.slotOf(ts))
	if !ok || !j.running(ts) {
		return Job{}, false
	}
	j.at(ts)
	return j, true
}
