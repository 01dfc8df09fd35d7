package parse

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// NodesArgs are sinfo's arguments for Nodes: one line per node and
// partition (-N), hidden partitions too (-a), fields unpadded (width 0) and
// separated by '|', the free-text Reason last so that a '|' in it cannot
// shift the other fields.
var NodesArgs = []string{"-h", "-N", "-a", "-O",
	"NodeList:0|,PartitionName:0|,StateLong:0|,CPUsState:0|,AllocMem:0|,Memory:0|,Gres:0|,GresUsed:0|,Reason:0"}

const nodeFields = 9

// Node is one node as sinfo shows it.
type Node struct {
	Name       string
	Partitions []string // in sinfo's order
	State      string   // StateLong: "mixed", "drained*", "idle~", "mixed-"
	Reason     string   // why it is down or drained; "" when none
	CPUs       CPUs
	MemAlloc   int64 // MB
	MemTotal   int64 // MB (RealMemory)
	GPUs       int   // from Gres, all types
	GPUsUsed   int   // from GresUsed
}

// CPUs are a node's (or a partition's) CPUs by state, sinfo's CPUsState
// "A/I/O/T".
type CPUs struct{ Alloc, Idle, Other, Total int }

// Add adds o to c.
func (c *CPUs) Add(o CPUs) {
	c.Alloc += o.Alloc
	c.Idle += o.Idle
	c.Other += o.Other
	c.Total += o.Total
}

// Nodes parses the output of sinfo with NodesArgs. sinfo prints a node once
// per partition; Nodes returns it once, with all its partitions, in the
// order sinfo first shows it.
func Nodes(out []byte) ([]Node, error) {
	var nodes []Node
	at := map[string]int{} // name → index in nodes
	var f [nodeFields]string
	err := eachLine(out, func(line string) error {
		if err := split(f[:], line); err != nil {
			return err
		}
		name, part := f[0], f[1]
		if name == "" {
			return fmt.Errorf("no NodeList")
		}
		if i, ok := at[name]; ok {
			if part != "" && !slices.Contains(nodes[i].Partitions, part) {
				nodes[i].Partitions = append(nodes[i].Partitions, part)
			}
			return nil
		}
		n, err := parseNode(f)
		if err != nil {
			return err
		}
		at[name] = len(nodes)
		nodes = append(nodes, n)
		return nil
	})
	return nodes, err
}

func parseNode(f [nodeFields]string) (Node, error) {
	n := Node{Name: f[0], State: f[2], Reason: noneIfNull(f[8])}
	if n.Reason == "none" { // sinfo's word for no reason
		n.Reason = ""
	}
	if f[1] != "" {
		n.Partitions = []string{f[1]}
	}
	if n.State == "" {
		return n, fmt.Errorf("no StateLong")
	}
	var err error
	if n.CPUs, err = parseCPUs(f[3]); err != nil {
		return n, err
	}
	if n.MemAlloc, err = megabytes("AllocMem", f[4]); err != nil {
		return n, err
	}
	if n.MemTotal, err = megabytes("Memory", f[5]); err != nil {
		return n, err
	}
	gres, err := ParseGRES(f[6])
	if err != nil {
		return n, fmt.Errorf("field Gres: %w", err)
	}
	used, err := ParseGRES(f[7])
	if err != nil {
		return n, fmt.Errorf("field GresUsed: %w", err)
	}
	n.GPUs, n.GPUsUsed = GPUCount(gres), GPUCount(used)
	return n, nil
}

// parseCPUs parses "A/I/O/T".
func parseCPUs(s string) (CPUs, error) {
	var v [4]int
	rest := s
	for i := range v {
		var f string
		if i < 3 {
			var ok bool
			if f, rest, ok = strings.Cut(rest, "/"); !ok {
				return CPUs{}, fmt.Errorf("CPUsState %q is not A/I/O/T", s)
			}
		} else {
			f = rest
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return CPUs{}, fmt.Errorf("CPUsState %q is not A/I/O/T", s)
		}
		v[i] = n
	}
	return CPUs{v[0], v[1], v[2], v[3]}, nil
}

// megabytes parses a memory size in MB; sinfo adds '+' to a size that
// differs between the nodes of a line.
func megabytes(field, s string) (int64, error) {
	if s == "N/A" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "+"), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a size in MB", field, s)
	}
	return n, nil
}
