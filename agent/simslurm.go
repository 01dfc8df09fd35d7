package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/agent/gpu"
	"github.com/gpu-watchdog/gpu-watchdog/agent/sim"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/collector"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/slurmsim"
)

// A simulated agent with --simulate-slurm is a node of a simulated Slurm
// cluster: its GPUs run the cluster's jobs, and it exports the Slurm series
// a real node does (see package slurmsim).

// checkSimulatedSlurm validates the --simulate-slurm options.
func (o *Options) checkSimulatedSlurm() []error {
	if o.SimulateSlurm == "" {
		if o.SimulateSlurmNodes != "" {
			return []error{errors.New("--simulate-slurm-nodes needs --simulate-slurm head or worker")}
		}
		return nil
	}
	var errs []error
	switch slurmsim.Role(o.SimulateSlurm) {
	case slurmsim.RoleHead, slurmsim.RoleWorker:
	default:
		errs = append(errs, fmt.Errorf("--simulate-slurm %q: want head or worker", o.SimulateSlurm))
	}
	if o.Simulate == "" {
		errs = append(errs, errors.New("--simulate-slurm needs --simulate: it simulates Slurm for simulated GPUs"))
	}
	if o.SimulateStable {
		errs = append(errs, errors.New("--simulate-slurm and --simulate-stable: stable readings cannot follow the simulated jobs"))
	}
	if o.Slurm.Enabled() {
		errs = append(errs, errors.New("--simulate-slurm and --slurm-role: give one"))
	}
	if o.SimulateSlurmNodes == "" {
		errs = append(errs, errors.New("--simulate-slurm needs --simulate-slurm-nodes, the simulated cluster's nodes"))
	} else if _, err := slurmsim.ParseNodes(o.SimulateSlurmNodes); err != nil {
		errs = append(errs, fmt.Errorf("--simulate-slurm-nodes: %w", err))
	}
	if o.Slurm.CollectInterval < time.Second {
		errs = append(errs, fmt.Errorf("--slurm-collect-interval %v: want at least 1s", o.Slurm.CollectInterval))
	}
	return errs
}

// simSlurmNode is this agent's Slurm node name in the simulated cluster.
func (o *Options) simSlurmNode(hostname string) (string, error) {
	name := o.Slurm.NodeName
	if name == "" {
		name, _, _ = strings.Cut(hostname, ".")
	}
	if !conf.ValidNodeName(name) {
		return "", fmt.Errorf("hostname %q is not a valid Slurm node name: set --slurm-node-name", name)
	}
	return name, nil
}

// openSimulatedSlurm lays out the simulated cluster; New calls it before
// the simulated GPUs are made, as they follow its jobs.
func (a *Agent) openSimulatedSlurm() error {
	if a.opts.SimulateSlurm == "" {
		return nil
	}
	nodes, err := slurmsim.ParseNodes(a.opts.SimulateSlurmNodes)
	if err != nil {
		return fmt.Errorf("--simulate-slurm-nodes: %w", err)
	}
	if a.simNode, err = a.opts.simSlurmNode(a.hostname); err != nil {
		return err
	}
	a.simCluster, err = slurmsim.New(nodes, a.opts.SimulateSlurmSeed)
	return err
}

// simSchedule is what the simulated GPUs do: the jobs of this node in the
// simulated cluster, or, for a node not in it, nil (the simulator's own).
func (a *Agent) simSchedule() sim.Schedule {
	if a.simCluster == nil {
		return nil
	}
	if _, ok := a.simCluster.Node(a.simNode); !ok {
		return nil
	}
	return gpuSchedule(a.simCluster, a.simNode)
}

// gpuSchedule makes node's jobs in c the work of its simulated GPUs.
func gpuSchedule(c *slurmsim.Cluster, node string) sim.Schedule {
	return func(i int, t time.Time) sim.Work {
		j, ok := c.GPUJob(node, i, t)
		if !ok {
			return sim.Work{}
		}
		return sim.Work{Job: j.ID, Load: j.Load, MemFrac: j.MemFrac}
	}
}

// newSimulatedSlurm makes the exporter of the simulated Slurm series and
// runs its first collection cycle, so that the first sample has them.
func (a *Agent) newSimulatedSlurm(gpus []*gpu.GPU) error {
	cgpus := make([]collector.GPU, len(gpus))
	for i, g := range gpus {
		cgpus[i] = collector.GPU{Index: g.Index, UUID: g.UUID}
	}
	e, err := slurmsim.NewExporter(a.simCluster, slurmsim.ExporterOptions{Role: slurmsim.Role(a.opts.SimulateSlurm),
		Node: a.simNode, Hostname: a.hostname, ClusterName: a.opts.Slurm.ClusterName, GPUs: cgpus}, a.logger)
	if err != nil {
		return err
	}
	if err := e.Update(context.Background()); err != nil {
		return fmt.Errorf("simulated Slurm: %w", err)
	}
	a.simSlurm = e
	a.logger.Info("simulated Slurm", "role", a.opts.SimulateSlurm, "node", a.simNode,
		"nodes", len(a.simCluster.Nodes()), "seed", a.opts.SimulateSlurmSeed)
	return nil
}
