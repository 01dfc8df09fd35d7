package aggregator

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/discovery"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision/idle"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// podSeriesJob is the job label of the series gpuwd writes about the pods
// it provisioned.
const podSeriesJob = "gpuwd-provision"

// costMetric is what a node costs per hour: agents export it when told
// their price; gpuwd writes it for provisioned pods whose agents do not.
const costMetric = "gpuwd_node_cost_per_hour_dollars"

// podWatch brings the pods providers list into the fleet's view, every
// few seconds: running pods are scrape targets until their agents
// register, and each has gpuwd_pod_info (its provider, id, name, GPU type:
// what idle policies select on and dashboards join with) and, unless its
// agent exports its own, its price as gpuwd_node_cost_per_hour_dollars.
// Series of pods that stopped end with a stale marker.
type podWatch struct {
	pods interface {
		Pods(context.Context) ([]provision.ListedPod, map[string]error)
	}
	disc   *discovery.Manager
	query  engineQuery
	sink   rules.Sink
	log    *slog.Logger
	every  time.Duration
	last   map[uint64]labels.Labels // series written at the last update, by hash
	lastOK bool
}

func (w *podWatch) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.update(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *podWatch) update(ctx context.Context, now time.Time) {
	pods, _ := w.pods.Pods(ctx)      // a provider whose listing failed keeps its last pods
	instances := map[string]string{} // pod id → instance of its registered agent
	nodes := map[string]string{}
	for _, a := range w.disc.Agents() {
		if a.PodID == "" {
			continue
		}
		if t, err := target.FromURL("", a.URL); err == nil {
			instances[a.PodID], nodes[a.PodID] = t.Instance(), a.Node
		}
	}
	var targets []discovery.Pod
	var vec promql.Vector
	ts := now.UnixMilli()
	ownCost, costKnown := w.instancesWithOwnCost(ctx, now)
	for _, p := range pods {
		if p.Status != provision.StatusRunning {
			continue
		}
		inst := instances[p.ID]
		if inst == "" && p.MetricsURL != "" {
			t, err := target.FromURL("", p.MetricsURL)
			if err != nil {
				continue
			}
			inst = t.Instance()
			targets = append(targets, discovery.Pod{Provider: p.Provider, ID: p.ID, Name: p.Name, MetricsURL: p.MetricsURL})
		}
		if inst == "" {
			continue // nowhere to join its metrics with yet
		}
		info := labels.NewScratchBuilder(11)
		for _, kv := range [][2]string{{model.MetricNameLabel, idle.PodInfo}, {"job", podSeriesJob}, {"instance", inst},
			{"provider", p.Provider}, {"pod_id", p.ID}, {"pod_name", p.Name}, {"gpu_type", p.GPUType}, {"cloud", string(p.Cloud)},
			{"role", string(p.Role)}, {"node", nodes[p.ID]}} {
			if kv[1] != "" {
				info.Add(kv[0], kv[1])
			}
		}
		info.Sort()
		vec = append(vec, promql.Sample{Metric: info.Labels(), T: ts, F: 1})
		if p.CostPerHour > 0 && costKnown && !ownCost[inst] {
			vec = append(vec, promql.Sample{Metric: labels.FromStrings(model.MetricNameLabel, costMetric, "job", podSeriesJob, "instance", inst,
				"provider", p.Provider, "pod_id", p.ID), T: ts, F: p.CostPerHour})
		}
	}
	w.disc.SetProvisioned(targets)
	next := make(map[uint64]labels.Labels, len(vec))
	for _, s := range vec {
		next[s.Metric.Hash()] = s.Metric
	}
	for h, ls := range w.last {
		if _, ok := next[h]; !ok {
			vec = append(vec, promql.Sample{Metric: ls, T: ts, F: math.Float64frombits(value.StaleNaN)})
		}
	}
	if len(vec) == 0 {
		return
	}
	if err := w.sink.Write(ctx, vec); err != nil {
		if w.lastOK || w.last == nil {
			w.log.Warn("writing the provisioned pods' series failed; retrying", "err", err)
		}
		w.lastOK = false
		return // written again, stale markers included, at the next update
	}
	w.last, w.lastOK = next, true
}

// instancesWithOwnCost are the instances whose agents export their price;
// false when that could not be read (no price is written then, rather than
// one counted twice).
func (w *podWatch) instancesWithOwnCost(ctx context.Context, now time.Time) (map[string]bool, bool) {
	vec, err := w.query.Instant(ctx, `count by (instance) (`+costMetric+`{job!="`+podSeriesJob+`"})`, now)
	if err != nil {
		w.log.Warn("reading which agents export their price failed", "err", err)
		return nil, false
	}
	out := map[string]bool{}
	for _, s := range vec {
		out[s.Metric.Get("instance")] = true
	}
	return out, true
}
