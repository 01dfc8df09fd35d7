package slurmsim

import (
	"slices"
	"time"
)

// NodeStatus is a node as sinfo shows it at one moment.
type NodeStatus struct {
	NodeSpec
	Partitions []string
	State      string // sinfo's StateLong: idle, mixed, allocated, drained, down*
	Reason     string // why it is drained or down; "" when none
	CPUs       int
	CPUsAlloc  int
	MemMB      int64
	MemAllocMB int64
	GPUIdx     []int // the GPUs jobs hold, sorted
}

// Takes reports whether the node takes jobs in this state.
func (s NodeStatus) Takes() bool {
	switch s.State {
	case "idle", "mixed", "allocated":
		return true
	}
	return false
}

// NodeStatuses returns every node's state at t, in list order, given the
// jobs held at t (from Jobs).
func (c *Cluster) NodeStatuses(jobs []Job) []NodeStatus {
	out := make([]NodeStatus, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = NodeStatus{NodeSpec: n.NodeSpec, Partitions: n.parts, Reason: n.reason, CPUs: n.cpus, MemMB: n.memMB}
	}
	for _, j := range jobs {
		if j.State != "RUNNING" {
			continue
		}
		s := &out[c.byName[j.Node]]
		s.CPUsAlloc += j.CPUs
		s.MemAllocMB += j.MemMB
		s.GPUIdx = append(s.GPUIdx, j.GPUIdx...)
	}
	for i := range out {
		s := &out[i]
		slices.Sort(s.GPUIdx)
		switch {
		case s.Avail == Drain:
			s.State = "drained"
		case s.Avail == Down:
			s.State = "down*"
		case s.CPUsAlloc == 0:
			s.State = "idle"
		case s.CPUsAlloc >= s.CPUs:
			s.State = "allocated"
		default:
			s.State = "mixed"
		}
	}
	return out
}

// Status returns node's state at t.
func (c *Cluster) Status(node string, t time.Time) (NodeStatus, bool) {
	i, ok := c.byName[node]
	if !ok {
		return NodeStatus{}, false
	}
	return c.NodeStatuses(c.NodeJobs(node, t))[i], true
}
