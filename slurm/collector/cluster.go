package collector

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/parse"
)

// clusterDescs are the series a Cluster can emit.
var clusterDescs descs

// Cluster is the head's view of the cluster: nodes, partitions, the queue
// and the scheduler.
type Cluster struct {
	r        Runner
	updating sync.Mutex // one Update at a time
	snap     snapshot
}

// NewCluster returns a Cluster that reads Slurm through r. It has nothing
// to collect until Update succeeds.
func NewCluster(r Runner) *Cluster {
	return &Cluster{r: r}
}

// Update runs one collection cycle: sinfo, squeue, scontrol and sdiag, one
// call each. If one of the first three fails, Update returns its error and
// the Cluster collects nothing until an Update succeeds; without sdiag only
// the scheduler series are missing.
func (c *Cluster) Update(ctx context.Context) error {
	c.updating.Lock()
	defer c.updating.Unlock()
	m, err := c.cycle(ctx)
	c.snap.set(m)
	return err
}

func (c *Cluster) cycle(ctx context.Context) (batch, error) {
	nodes, err := run(ctx, c.r, parse.Nodes, "sinfo", parse.NodesArgs...)
	if err != nil {
		return nil, err
	}
	jobs, err := run(ctx, c.r, parse.Jobs, "squeue", parse.JobsArgs...)
	if err != nil {
		return nil, err
	}
	parts, err := run(ctx, c.r, parse.Partitions, "scontrol", parse.PartitionsArgs...)
	if err != nil {
		return nil, err
	}
	sched, schedErr := run(ctx, c.r, parse.Sdiag, "sdiag")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b batch
	addNodes(&b, nodes)
	addPartitions(&b, parts, nodes, jobs)
	addQueue(&b, jobs)
	if schedErr == nil {
		addScheduler(&b, sched)
	}
	return b, nil
}

// Describe sends the descriptions of every series the Cluster can emit.
func (c *Cluster) Describe(ch chan<- *prometheus.Desc) { clusterDescs.describe(ch) }

// Collect sends the metrics of the last successful Update.
func (c *Cluster) Collect(ch chan<- prometheus.Metric) { c.snap.collect(ch) }
