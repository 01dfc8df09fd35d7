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

// SlurmNodeState reads slurm_node_status, the head's view of the node; ""
// while the head has not reported it.
func (f provisionFleet) SlurmNodeState(ctx context.Context, node string) (string, error) {
	vec, err := f.query.Instant(ctx, `max by (status) (slurm_node_status{node=`+strconv.Quote(node)+`})`, time.Now())
	if err != nil || len(vec) == 0 {
		return "", err
	}
	return vec[0].Metric.Get("status"), nil
}
