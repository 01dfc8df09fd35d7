package slurmsim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/collector"
	"github.com/gpu-watchdog/gpu-watchdog/slurm/supervise"
)

// Role is the part a simulated agent plays: the head exports the cluster's
// series; every node of the list, the head too when it is one, the jobs on
// its GPUs.
type Role string

// The roles.
const (
	RoleHead   Role = "head"
	RoleWorker Role = "worker"
)

// ExporterOptions describe one simulated agent's part.
type ExporterOptions struct {
	Role        Role
	Node        string          // its Slurm node name
	Hostname    string          // the hostname label of gpuwd_gpu_job_info
	ClusterName string          // the cluster label of gpuwd_slurm_node_info
	GPUs        []collector.GPU // its GPUs; used when Node is in the list
	Now         func() time.Time
}

// Exporter is the Slurm side of a simulated agent: the series package slurm
// exports for a real node (gpuwd_slurm_node_info, gpuwd_slurm_up,
// gpuwd_slurm_node_joined, the daemons), and collector.Cluster and
// collector.GPUJobs reading the simulated cluster through a Runner.
type Exporter struct {
	c       *Cluster
	opts    ExporterOptions
	logger  *slog.Logger
	compute bool
	cluster *collector.Cluster // head only
	jobs    *collector.GPUJobs // nodes of the list only
	daemons supervise.Metrics

	info, up, joined, seconds *prometheus.Desc

	mu       sync.Mutex
	slurmUp  bool
	duration time.Duration
}

// NewExporter returns the Slurm side of the agent o describes. A worker
// must be a node of c, with as many GPUs as the list says; a head need not
// be (a controller without GPUs in Slurm).
func NewExporter(c *Cluster, o ExporterOptions, logger *slog.Logger) (*Exporter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	spec, inList := c.Node(o.Node)
	switch {
	case o.Role != RoleHead && o.Role != RoleWorker:
		return nil, fmt.Errorf("simulated Slurm role %q: want head or worker", o.Role)
	case o.Role == RoleWorker && !inList:
		return nil, fmt.Errorf("simulated Slurm: node %s is not in the node list", o.Node)
	case inList && spec.GPUs != len(o.GPUs):
		return nil, fmt.Errorf("simulated Slurm: node %s has %d GPUs in the node list and %d simulated", o.Node, spec.GPUs, len(o.GPUs))
	}
	e := &Exporter{c: c, opts: o, logger: logger.With("component", "slurm", "simulated", true), compute: inList,
		daemons: supervise.NewMetrics("gpuwd_slurm"),
		// As package slurm names them (slurm/collect.go).
		info: prometheus.NewDesc("gpuwd_slurm_node_info", "This node's part in Slurm (always 1).",
			[]string{"role", "node", "cluster"}, nil),
		up: prometheus.NewDesc("gpuwd_slurm_up",
			"Whether the last collection cycle got answers from Slurm (1) or not (0): a dead or slow slurmctld, munge, or Slurm not started.", nil, nil),
		joined: prometheus.NewDesc("gpuwd_slurm_node_joined",
			"Whether this node has joined its Slurm cluster and takes jobs (1) or not (0); /readyz says why.", nil, nil),
		seconds: prometheus.NewDesc("gpuwd_slurm_collect_duration_seconds",
			"How long the last collection cycle of Slurm's state took.", nil, nil),
	}
	r := NewRunner(c, o.Now)
	e.daemons.Up.WithLabelValues("munged").Set(1)
	e.daemons.Restarts.WithLabelValues("munged")
	if o.Role == RoleHead {
		e.cluster = collector.NewCluster(r)
		e.daemons.Up.WithLabelValues("slurmctld").Set(1)
		e.daemons.Restarts.WithLabelValues("slurmctld")
	}
	if inList {
		e.jobs = collector.NewGPUJobs(r, o.Node, o.Hostname, o.GPUs)
		e.daemons.Up.WithLabelValues("slurmd").Set(1)
		e.daemons.Restarts.WithLabelValues("slurmd")
	}
	return e, nil
}

// Update runs one collection cycle, as a real node does every
// --slurm-collect-interval.
func (e *Exporter) Update(ctx context.Context) error {
	start := time.Now()
	var err error
	if e.cluster != nil {
		err = e.cluster.Update(ctx)
	}
	if e.jobs != nil {
		if jerr := e.jobs.Update(ctx); err == nil {
			err = jerr
		}
	}
	e.mu.Lock()
	e.slurmUp, e.duration = err == nil, time.Since(start)
	e.mu.Unlock()
	return err
}

// Run updates every interval until ctx ends.
func (e *Exporter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := e.Update(ctx); err != nil && ctx.Err() == nil {
			e.logger.Warn("simulated Slurm: collection failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Describe sends the descriptions of every series the Exporter can emit.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	e.daemons.Describe(ch)
	ch <- e.info
	ch <- e.up
	ch <- e.joined
	ch <- e.seconds
	if e.cluster != nil {
		e.cluster.Describe(ch)
	}
	if e.jobs != nil {
		e.jobs.Describe(ch)
	}
}

// Collect sends the node's series and what the last cycle found.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	up, took := e.slurmUp, e.duration
	e.mu.Unlock()
	joined := true
	if e.compute {
		s, _ := e.c.Status(e.opts.Node, e.opts.Now())
		joined = s.Takes()
	}
	e.daemons.Collect(ch)
	ch <- prometheus.MustNewConstMetric(e.info, prometheus.GaugeValue, 1, string(e.opts.Role), e.opts.Node, e.opts.ClusterName)
	ch <- prometheus.MustNewConstMetric(e.up, prometheus.GaugeValue, boolFloat(up))
	ch <- prometheus.MustNewConstMetric(e.joined, prometheus.GaugeValue, boolFloat(joined))
	ch <- prometheus.MustNewConstMetric(e.seconds, prometheus.GaugeValue, took.Seconds())
	if e.cluster != nil {
		e.cluster.Collect(ch)
	}
	if e.jobs != nil {
		e.jobs.Collect(ch)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
