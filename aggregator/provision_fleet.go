package aggregator

import (
	"context"
	"strconv"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/discovery"
)

// provisionFleet tells the provisioning manager when a launched pod has
// joined: its agent registered (by the pod id it registers with), and its
// Slurm node's state as the head's agent exports it.
type provisionFleet struct {
	agents func() []discovery.Agent
	query  engineQuery
}

func (f provisionFleet) PodAgent(podID string) (string, bool) {
	for _, a := range f.agents() {
		if a.PodID == podID && podID != "" {
			return a.Node, true
		}
	}
	return "", false
}

// SlurmNodeState is the node's state as the head's agent exports it
// (slurm_node_status), else "idle" once the node's own agent has seen the
// controller list it as taking jobs (gpuwd_slurm_node_joined, which it
// checks with sinfo when it joins): the head collects every 15 s by
// default, the node's agent is scraped sooner. "" while neither knows.
func (f provisionFleet) SlurmNodeState(ctx context.Context, node string) (string, error) {
	now := time.Now()
	q := strconv.Quote(node)
	vec, err := f.query.Instant(ctx, `max by (status) (slurm_node_status{node=`+q+`})`, now)
	if err != nil {
		return "", err
	}
	if len(vec) > 0 {
		if st := vec[0].Metric.Get("status"); st == "idle" || st == "mixed" || st == "allocated" {
			return st, nil
		}
	}
	joined, err := f.query.Instant(ctx, `max(gpuwd_slurm_node_joined * on (instance) group_left () gpuwd_slurm_node_info{node=`+q+`}) == 1`, now)
	if err == nil && len(joined) > 0 {
		return "idle", nil
	}
	if len(vec) > 0 {
		return vec[0].Metric.Get("status"), nil
	}
	return "", err
}
