package parse

import (
	"errors"
	"strings"
)

// PartitionsArgs are scontrol's arguments for Partitions: every partition,
// hidden ones too, one line each. Unlike sinfo, it lists partitions that
// have no nodes.
var PartitionsArgs = []string{"-a", "-o", "show", "partition"}

// Partition is what the collectors need of a partition.
type Partition struct {
	Name       string
	State      string // UP, DOWN, INACTIVE, DRAIN
	Nodes      string // hostlist; "" when none
	TotalCPUs  int
	TotalNodes int
}

// Partitions parses `scontrol -o show partition` output.
func Partitions(out []byte) ([]Partition, error) {
	if strings.HasPrefix(strings.TrimSpace(string(out)), "No partitions") {
		return nil, nil
	}
	var parts []Partition
	err := eachLine(out, func(line string) error {
		rec, err := ParseRecord(line)
		if err != nil {
			return err
		}
		var p Partition
		if p.Name, _ = rec.Get("PartitionName"); p.Name == "" {
			return errors.New("no PartitionName")
		}
		p.State, _ = rec.Get("State")
		nodes, _ := rec.Get("Nodes")
		p.Nodes = noneIfNull(nodes)
		cpus, _ := rec.Get("TotalCPUs")
		if p.TotalCPUs, err = count("TotalCPUs", cpus); err != nil {
			return err
		}
		n, _ := rec.Get("TotalNodes")
		if p.TotalNodes, err = count("TotalNodes", n); err != nil {
			return err
		}
		parts = append(parts, p)
		return nil
	})
	return parts, err
}
