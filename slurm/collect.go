package slurm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/collector"
)

// nodeMetrics are the node's own Slurm series and the collectors' output.
// Everything is read from Slurm by the collection loop in the background;
// a scrape only copies what the last cycle found.
type nodeMetrics struct {
	n       *Node
	info    *prometheus.Desc
	up      *prometheus.Desc
	joined  *prometheus.Desc
	seconds *prometheus.Desc

	mu       sync.Mutex
	cluster  *collector.Cluster // head only
	jobs     *collector.GPUJobs // compute nodes only
	slurmUp  bool
	duration time.Duration
}

func newNodeMetrics(n *Node) *nodeMetrics {
	return &nodeMetrics{n: n,
		info: prometheus.NewDesc("gpuwd_slurm_node_info", "This node's part in Slurm (always 1).",
			[]string{"role", "node", "cluster"}, nil),
		up: prometheus.NewDesc("gpuwd_slurm_up",
			"Whether the last collection cycle got answers from Slurm (1) or not (0): a dead or slow slurmctld, munge, or Slurm not started.", nil, nil),
		joined: prometheus.NewDesc("gpuwd_slurm_node_joined",
			"Whether this node has joined its Slurm cluster and takes jobs (1) or not (0); /readyz says why.", nil, nil),
		seconds: prometheus.NewDesc("gpuwd_slurm_collect_duration_seconds",
			"How long the last collection cycle of Slurm's state took.", nil, nil),
	}
}

// Collect reports the node's series and what the collectors last found.
func (m *nodeMetrics) Collect(ch chan<- prometheus.Metric) {
	n := m.n
	if !n.opts.Enabled() {
		return
	}
	ready, _ := n.Ready()
	m.mu.Lock()
	cluster, jobs, up, took := m.cluster, m.jobs, m.slurmUp, m.duration
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.info, prometheus.GaugeValue, 1, string(n.opts.Role), n.name, n.opts.ClusterName)
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, boolFloat(up))
	ch <- prometheus.MustNewConstMetric(m.joined, prometheus.GaugeValue, boolFloat(ready))
	ch <- prometheus.MustNewConstMetric(m.seconds, prometheus.GaugeValue, took.Seconds())
	if cluster != nil {
		cluster.Collect(ch)
	}
	if jobs != nil {
		jobs.Collect(ch)
	}
}

// collect reads Slurm's state every CollectInterval until ctx ends.
func (n *Node) collect(ctx context.Context) {
	m := n.metrics
	var cluster *collector.Cluster
	var jobs *collector.GPUJobs
	if n.opts.Role == RoleHead {
		cluster = collector.NewCluster(n.runner)
	}
	if n.compute {
		gpus := make([]collector.GPU, len(n.gpus))
		for i, g := range n.gpus {
			gpus[i] = collector.GPU{Index: g.Index, UUID: g.UUID}
		}
		jobs = collector.NewGPUJobs(n.runner, n.name, n.hostname, gpus)
	}
	m.mu.Lock()
	m.cluster, m.jobs = cluster, jobs
	m.mu.Unlock()

	failing := false
	t := time.NewTicker(n.opts.CollectInterval)
	defer t.Stop()
	for {
		start := time.Now()
		var err error
		if cluster != nil {
			err = cluster.Update(ctx)
		}
		if jobs != nil {
			if jerr := jobs.Update(ctx); err == nil {
				err = jerr
			}
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			n.logger.Warn("cannot read Slurm's state; gpuwd_slurm_up is 0", "err", err)
		case err == nil && failing:
			n.logger.Info("Slurm answers again")
		}
		failing = err != nil
		n.refreshStatus(ctx, err)
		m.mu.Lock()
		m.slurmUp, m.duration = err == nil, time.Since(start)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshStatus updates what Ready says after a collection cycle: a compute
// node asks for its own state (an admin may have drained it, slurmd may be
// restarting); a head without GPUs is ready while its controller answers.
func (n *Node) refreshStatus(ctx context.Context, collectErr error) {
	if !n.compute {
		if collectErr != nil {
			n.setStatus("slurmctld does not answer: " + collectErr.Error())
		} else {
			n.setStatus("")
		}
		return
	}
	n.mu.Lock()
	slurmd := n.slurmd
	n.mu.Unlock()
	if slurmd == nil || !slurmd.Running() {
		n.setStatus("slurmd is not running (the agent restarts it)")
		return
	}
	state, reason, err := n.nodeState(ctx)
	if !errors.Is(err, errNotInCluster) {
		n.rejoins.missing = 0
	}
	switch {
	case errors.Is(err, errNotInCluster):
		n.setStatus(err.Error() + ": the controller has forgotten it")
		n.rejoin(ctx)
	case err != nil:
		n.setStatus("cannot ask Slurm for this node's state: " + err.Error())
	case usable(state):
		n.rejoins = rejoinState{}
		n.setStatus("")
	default:
		n.setStatus(strings.TrimSpace(fmt.Sprintf("node %s is %s in Slurm %s", n.name, state, reason)))
	}
}

func onlineCPUs() int { return runtime.NumCPU() }

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
