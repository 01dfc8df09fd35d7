package parse

import (
	"fmt"
	"slices"
)

// JobDetailArgs are scontrol's arguments for JobDetails: one job, with the
// resources it holds on each node (-d). id may be an array task ("8_3").
func JobDetailArgs(id string) []string {
	return []string{"-d", "-o", "show", "job", id}
}

// JobDetail is one job record of `scontrol -d -o show job`.
type JobDetail struct {
	ID     string // JobId
	State  string // JobState
	Allocs []NodeAlloc
}

// NodeAlloc is one per-node group of a job detail: the nodes that hold the
// same CPUs, memory and GRES, e.g.
//
//	Nodes=w[1-2] CPU_IDs=0-1 Mem=200 GRES=gpu:h100:2(IDX:0-1)
type NodeAlloc struct {
	Nodes string // hostlist
	GRES  []GRES
}

// JobDetails parses `scontrol -d -o show job` output; one record per job
// (all the tasks of an array when asked for the array).
func JobDetails(out []byte) ([]JobDetail, error) {
	var jobs []JobDetail
	err := eachLine(out, func(line string) error {
		rec, err := ParseRecord(line)
		if err != nil {
			return err
		}
		var j JobDetail
		if j.ID, _ = rec.Get("JobId"); j.ID == "" {
			return fmt.Errorf("no JobId")
		}
		j.State, _ = rec.Get("JobState")
		for _, f := range rec {
			switch f.Key {
			case "Nodes":
				j.Allocs = append(j.Allocs, NodeAlloc{Nodes: f.Value})
			case "GRES", "GRES_IDX": // GRES_IDX: 18.08 and older
				if len(j.Allocs) == 0 {
					return fmt.Errorf("%s before Nodes", f.Key)
				}
				g, err := ParseGRES(f.Value)
				if err != nil {
					return err
				}
				j.Allocs[len(j.Allocs)-1].GRES = g
			}
		}
		jobs = append(jobs, j)
		return nil
	})
	return jobs, err
}

// GPUIndices returns the GPU indices the job holds on node, sorted; none
// when it holds no GPU there or does not run there.
func (j JobDetail) GPUIndices(node string) ([]int, error) {
	var idx []int
	for _, a := range j.Allocs {
		in, err := InHostlist(a.Nodes, node)
		if err != nil {
			return nil, err
		}
		if !in {
			continue
		}
		for _, g := range a.GRES {
			if g.Name == "gpu" {
				idx = append(idx, g.Index...)
			}
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx), nil
}
