package slurm

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Page serves /slurm.
type Page struct {
	Query   query.Engine
	Version string
	Now     func() time.Time // nil: time.Now
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/slurm", p.serve) }

var queries = map[string]string{
	"partNodes":   `max by (partition) (slurm_partition_nodes_total)`,
	"partGPUs":    `max by (partition) (slurm_partition_gpus_total)`,
	"partAlloc":   `max by (partition) (slurm_partition_gpus_allocated)`,
	"partIdle":    `max by (partition) (slurm_partition_gpus_idle)`,
	"partPending": `max by (partition) (slurm_partition_jobs_pending)`,
	"nodes":       `max by (node, status, reason) (slurm_node_status)`,
	"jobs":        `max by (job_id, user, account, partition, state, reason) (gpuwd_slurm_job_info)`,
	"jobGPUs":     `max by (job_id) (gpuwd_slurm_job_gpus)`,
	// The GPUs each running job holds, from the compute nodes' agents, and
	// how busy they are now.
	"jobUtil":  `avg by (job_id) (DCGM_FI_DEV_GPU_UTIL * on (instance, gpu) group_left (job_id) gpuwd_gpu_job_info)`,
	"jobHosts": `count by (job_id, hostname) (gpuwd_gpu_job_info)`,
}

func (p *Page) serve(c echo.Context) error {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	res, errs := query.Instants(c.Request().Context(), p.Query, queries, now)
	v := view{Errs: errs}
	v.Partitions = partitions(res)
	v.Nodes = nodes(res["nodes"])
	v.Pending, v.Running = jobs(res)
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Slurm", Path: "/slurm", Version: p.Version}, v))
}

// Partition is one row of the partitions table.
type Partition struct {
	Name                                  string
	Nodes, GPUs, Allocated, Idle, Pending int
}

func partitions(res map[string]promql.Vector) []Partition {
	byName := map[string]*Partition{}
	get := func(name string) *Partition {
		if byName[name] == nil {
			byName[name] = &Partition{Name: name}
		}
		return byName[name]
	}
	set := func(q string, f func(p *Partition, v int)) {
		for _, s := range res[q] {
			f(get(s.Metric.Get("partition")), int(s.F))
		}
	}
	set("partNodes", func(p *Partition, v int) { p.Nodes = v })
	set("partGPUs", func(p *Partition, v int) { p.GPUs = v })
	set("partAlloc", func(p *Partition, v int) { p.Allocated = v })
	set("partIdle", func(p *Partition, v int) { p.Idle = v })
	set("partPending", func(p *Partition, v int) { p.Pending = v })
	out := make([]Partition, 0, len(byName))
	for _, p := range byName {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// NodeState is the nodes in one state, with why where Slurm says.
type NodeState struct {
	Status string
	Nodes  []Node
}

// Node is one Slurm node.
type Node struct{ Name, Reason string }

// stateRank puts the states that need someone first.
func stateRank(status string) int {
	for i, prefix := range []string{"down", "fail", "drain", "inval", "maint", "mixed", "alloc", "idle"} {
		if len(status) >= len(prefix) && status[:len(prefix)] == prefix {
			return i
		}
	}
	return 99
}

func nodes(vec promql.Vector) []NodeState {
	by := map[string][]Node{}
	for _, s := range vec {
		st := s.Metric.Get("status")
		by[st] = append(by[st], Node{Name: s.Metric.Get("node"), Reason: s.Metric.Get("reason")})
	}
	out := make([]NodeState, 0, len(by))
	for st, ns := range by {
		slices.SortFunc(ns, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
		out = append(out, NodeState{Status: st, Nodes: ns})
	}
	slices.SortFunc(out, func(a, b NodeState) int {
		return cmp.Or(cmp.Compare(stateRank(a.Status), stateRank(b.Status)), cmp.Compare(a.Status, b.Status))
	})
	return out
}

// Job is one job of the queue.
type Job struct {
	ID, User, Account, Partition, State, Reason string
	GPUs                                        int
	Hosts                                       []string // where its GPUs are (running jobs)
	Util                                        float64  // its GPUs' mean utilisation now
	HasUtil                                     bool
}

func jobs(res map[string]promql.Vector) (pending, running []Job) {
	gpus := map[string]int{}
	for _, s := range res["jobGPUs"] {
		gpus[s.Metric.Get("job_id")] = int(s.F)
	}
	util := map[string]float64{}
	for _, s := range res["jobUtil"] {
		util[s.Metric.Get("job_id")] = s.F
	}
	hosts := map[string][]string{}
	for _, s := range res["jobHosts"] {
		id := s.Metric.Get("job_id")
		hosts[id] = append(hosts[id], s.Metric.Get("hostname"))
	}
	for _, s := range res["jobs"] {
		m := s.Metric
		j := Job{ID: m.Get("job_id"), User: m.Get("user"), Account: m.Get("account"), Partition: m.Get("partition"),
			State: m.Get("state"), Reason: m.Get("reason"), GPUs: gpus[m.Get("job_id")], Hosts: hosts[m.Get("job_id")]}
		slices.Sort(j.Hosts)
		j.Util, j.HasUtil = util[j.ID]
		if j.State == "PENDING" {
			pending = append(pending, j)
		} else {
			running = append(running, j)
		}
	}
	byID := func(a, b Job) int { return cmpJobID(a.ID, b.ID) }
	slices.SortFunc(pending, byID)
	slices.SortFunc(running, byID)
	return pending, running
}

// cmpJobID orders job IDs numerically where they are numbers (array jobs
// such as 12_3 compare as text).
func cmpJobID(a, b string) int {
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return cmp.Compare(a, b)
	}
	return cmp.Compare(x, y)
}

type view struct {
	Partitions []Partition
	Nodes      []NodeState
	Pending    []Job
	Running    []Job
	Errs       map[string]error
}

// err is the first failed query among names, for a panel's message.
func (v view) err(names ...string) error {
	for _, n := range names {
		if e := v.Errs[n]; e != nil {
			return e
		}
	}
	return nil
}
