package slurmsim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
)

// Availability is what an admin (or the hardware) has made of a node.
type Availability string

// The availabilities a node list may name.
const (
	Up    Availability = "up"    // takes jobs, and the simulation gives it some
	Idle  Availability = "idle"  // takes jobs, but none come its way
	Drain Availability = "drain" // drained by an admin, with a reason
	Down  Availability = "down"  // slurmd does not respond
)

// NodeSpec is one node of the simulated cluster.
type NodeSpec struct {
	Name  string
	GPUs  int
	Type  string // GRES type ("h100"); "" for untyped GPUs
	Avail Availability
}

// ParseNodes reads a node list: comma-separated NAME:GPUS[:AVAILABILITY],
// where GPUS is a count ("8") or a type and a count ("h100x8", the GRES
// gpu:h100:8), and AVAILABILITY is up (the default), idle, drain or down.
func ParseNodes(s string) ([]NodeSpec, error) {
	var nodes []NodeSpec
	seen := map[string]bool{}
	for entry := range strings.SplitSeq(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		f := strings.Split(entry, ":")
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("%q: want NAME:GPUS[:up|idle|drain|down]", entry)
		}
		n := NodeSpec{Name: f[0], Avail: Up}
		if !conf.ValidNodeName(n.Name) {
			return nil, fmt.Errorf("%q is not a valid Slurm node name", n.Name)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("node %s listed twice", n.Name)
		}
		seen[n.Name] = true
		count := f[1]
		if i := strings.LastIndexByte(count, 'x'); i > 0 {
			n.Type, count = strings.ToLower(count[:i]), count[i+1:]
		}
		var err error
		if n.GPUs, err = strconv.Atoi(count); err != nil || n.GPUs < 1 || n.GPUs > 64 {
			return nil, fmt.Errorf("%q: GPUS %q: want a count from 1 to 64, or TYPExCOUNT", entry, f[1])
		}
		if len(f) == 3 {
			switch a := Availability(strings.ToLower(f[2])); a {
			case Up, Idle, Drain, Down:
				n.Avail = a
			default:
				return nil, fmt.Errorf("%q: %q: want up, idle, drain or down", entry, f[2])
			}
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		return nil, errors.New("no nodes")
	}
	return nodes, nil
}

// Per-GPU share of a node's hardware.
const (
	cpusPerGPU  = 16
	memMBPerGPU = 256000
)

// Cluster is the simulated cluster: its nodes, partitions and the
// timetable of every block of GPUs. It never changes and is safe for
// concurrent use.
type Cluster struct {
	seed   uint64
	nodes  []node
	byName map[string]int
	lanes  []lane // the blocks of GPUs that run jobs, then the backlog's
	parts  []partition
}

// node is a node and its layout.
type node struct {
	NodeSpec
	cpus    int
	memMB   int64
	parts   []string
	reason  string // why it is drained or down
	gpuLane []int  // GPU index → index in Cluster.lanes; -1: never used
}

// partition is a partition and its nodes, in list order.
type partition struct {
	name  string
	nodes []string
}

// New lays out the cluster of nodes for seed: which GPUs of each node run
// jobs together, in which partitions, and how often their jobs turn over.
// The same nodes and seed give the same cluster in every process.
func New(nodes []NodeSpec, seed uint64) (*Cluster, error) {
	if len(nodes) == 0 {
		return nil, errors.New("slurmsim: no nodes")
	}
	c := &Cluster{seed: seed, byName: map[string]int{}}
	gpu := partition{name: "gpu"}
	debug := partition{name: "debug"}
	interactive := false // one GPU of the cluster is always held by a session that does nothing
	for i, spec := range nodes {
		if _, dup := c.byName[spec.Name]; dup {
			return nil, fmt.Errorf("slurmsim: node %s listed twice", spec.Name)
		}
		n := node{NodeSpec: spec, cpus: spec.GPUs * cpusPerGPU, memMB: int64(spec.GPUs) * memMBPerGPU,
			parts: []string{"gpu"}, gpuLane: make([]int, spec.GPUs)}
		gpu.nodes = append(gpu.nodes, spec.Name)
		// debug overlaps gpu on every second node (the only one, on a
		// cluster of one).
		if i%2 == 1 || len(nodes) == 1 {
			n.parts = append(n.parts, "debug")
			debug.nodes = append(debug.nodes, spec.Name)
		}
		d := newDraw(seed, nameHash(spec.Name), 1)
		switch spec.Avail {
		case Drain:
			n.reason = drainReasons[d.intn(len(drainReasons))]
		case Down:
			n.reason = "Not responding"
		}
		for g := range n.gpuLane {
			n.gpuLane[g] = -1
		}
		if spec.Avail == Up {
			sizes := blocks(spec.GPUs, &d)
			if !interactive && sizes[len(sizes)-1] > 1 {
				last := sizes[len(sizes)-1]
				sizes = append(sizes[:len(sizes)-1], last-1, 1)
			}
			first := 0
			for b, size := range sizes {
				l := lane{node: i, first: first, count: size, key: nameHash(spec.Name)*31 + uint64(b)}
				ld := newDraw(seed, l.key, 2)
				l.interactive = size == 1 && (!interactive && b == len(sizes)-1 || ld.float() < 0.1)
				interactive = interactive || l.interactive
				l.period, l.offset = lanePeriod(size, l.interactive, &ld)
				for g := first; g < first+size; g++ {
					n.gpuLane[g] = len(c.lanes)
				}
				c.lanes = append(c.lanes, l)
				first += size
			}
		}
		c.byName[spec.Name] = i
		c.nodes = append(c.nodes, n)
	}
	c.parts = []partition{gpu, debug}
	c.addBacklog()
	for i := range c.lanes {
		c.lanes[i].idx = i
	}
	return c, nil
}

// drainReasons are what admins write when they drain a node.
var drainReasons = []string{
	"GPU fell off the bus (XID 79), RMA 4471",
	"fan replacement [ops]",
	"NHC: ib0 link down",
	"driver upgrade to 550.90.07",
}

// blocks splits a node's GPUs into the blocks that run jobs together:
// whole, or halves split again.
func blocks(gpus int, d *draw) []int {
	if gpus == 1 || d.float() < 0.3 {
		return []int{gpus}
	}
	half := gpus / 2
	return append(blocks(gpus-half, d), blocks(half, d)...)
}

// lanePeriod is how often a block's jobs turn over, in seconds, and where
// its timetable starts: big blocks run long training jobs, single GPUs
// short ones; an interactive session stays for hours.
func lanePeriod(size int, interactive bool, d *draw) (period, offset int64) {
	minutes := []int64{8, 12, 15, 20}
	switch {
	case interactive:
		minutes = []int64{360}
	case size >= 8:
		minutes = []int64{30, 45, 60}
	case size >= 4:
		minutes = []int64{15, 20, 30}
	}
	period = minutes[d.intn(len(minutes))] * 60
	return period, int64(d.next() % uint64(period))
}

// Nodes returns the node list the cluster was made from.
func (c *Cluster) Nodes() []NodeSpec {
	out := make([]NodeSpec, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.NodeSpec
	}
	return out
}

// Node returns the node named name.
func (c *Cluster) Node(name string) (NodeSpec, bool) {
	i, ok := c.byName[name]
	if !ok {
		return NodeSpec{}, false
	}
	return c.nodes[i].NodeSpec, true
}

// nameHash is a node name's stable hash (FNV-1a: the same in every
// process, unlike maphash).
func nameHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// draw is a small deterministic random stream (SplitMix64) keyed by the
// numbers it was made from.
type draw struct{ s uint64 }

func newDraw(keys ...uint64) draw {
	h := uint64(0x6a09e667f3bcc908)
	for _, k := range keys {
		h = mix(h ^ k)
	}
	return draw{h}
}

func (d *draw) next() uint64 {
	d.s += 0x9e3779b97f4a7c15
	return mix(d.s)
}

// float is in [0, 1).
func (d *draw) float() float64 { return float64(d.next()>>11) / (1 << 53) }

// intn is in [0, n).
func (d *draw) intn(n int) int { return int(d.next() % uint64(n)) }

// between is in [lo, hi).
func (d *draw) between(lo, hi float64) float64 { return lo + d.float()*(hi-lo) }

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
