package nodes

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/web/query"
)

// GPU is one tile of the wall.
type GPU struct {
	Node, Instance, Index string
	Model, UUID           string
	Util                  float64 // % now
	UtilAvg               float64 // % over the last 30 minutes
	MemUsed, MemTotal     float64 // MiB
	Temp                  float64 // °C
	HasUtil, HasMem       bool
	HasTemp               bool
	Job, User             string // Slurm, when a job holds it
	Allocated             bool
	Lost                  bool    // fell off the bus
	XIDs                  float64 // in the last 15 minutes
	State                 string  // see the state constants
}

// GPU states, in the order the wall shows them by default: the ones that
// need someone first.
const (
	StateUnhealthy     = "unhealthy"      // lost, at 85 °C or more, or XIDs in the last 15 minutes
	StateIdleAllocated = "idle-allocated" // a Slurm job holds it and it has done nothing for 30 minutes
	StateBusy          = "busy"
	StateIdle          = "idle"
)

// Thresholds, as the default rule pack has them.
const (
	idlePercent = 5
	hotCelsius  = 85
)

// The queries the wall is made of; each result is keyed by (instance, gpu).
var gpuQueries = map[string]string{
	"info":    `gpuwd_gpu_info`,
	"util":    `DCGM_FI_DEV_GPU_UTIL`,
	"utilAvg": `avg_over_time(DCGM_FI_DEV_GPU_UTIL[30m])`,
	"memUsed": `DCGM_FI_DEV_FB_USED`,
	"memFree": `DCGM_FI_DEV_FB_FREE`,
	"temp":    `DCGM_FI_DEV_GPU_TEMP`,
	"up":      `gpuwd_gpu_up`,
	"job":     `gpuwd_gpu_job_info`,
	"alloc":   `gpuwd_gpu_allocated`,
	"xids":    `sum by (instance, gpu) (increase(gpuwd_xid_errors_total[15m]))`,
}

type key struct{ instance, gpu string }

// load runs the queries concurrently and joins them into one GPU per
// (instance, gpu) that gpuwd_gpu_info names. Only the info query must
// succeed; a failed other one leaves its field empty and is returned in
// errs, by name.
func load(ctx context.Context, e query.Engine, now time.Time) ([]GPU, map[string]error, error) {
	results, errs := query.Instants(ctx, e, gpuQueries, now)
	if err := errs["info"]; err != nil {
		return nil, errs, fmt.Errorf("GPU inventory: %w", err)
	}
	byKey := map[key]*GPU{}
	var order []key
	for _, s := range results["info"] {
		k := key{s.Metric.Get("instance"), s.Metric.Get("gpu")}
		if _, dup := byKey[k]; dup {
			continue
		}
		node := s.Metric.Get("hostname")
		if node == "" {
			node = k.instance
		}
		byKey[k] = &GPU{Node: node, Instance: k.instance, Index: k.gpu, Model: s.Metric.Get("modelName"), UUID: s.Metric.Get("UUID")}
		order = append(order, k)
	}
	each := func(name string, f func(g *GPU, s promql.Sample)) {
		for _, s := range results[name] {
			if g := byKey[key{s.Metric.Get("instance"), s.Metric.Get("gpu")}]; g != nil {
				f(g, s)
			}
		}
	}
	each("util", func(g *GPU, s promql.Sample) { g.Util, g.HasUtil = s.F, true })
	each("utilAvg", func(g *GPU, s promql.Sample) { g.UtilAvg = s.F })
	each("memUsed", func(g *GPU, s promql.Sample) { g.MemUsed, g.HasMem = s.F, true })
	each("memFree", func(g *GPU, s promql.Sample) { g.MemTotal = s.F })
	each("temp", func(g *GPU, s promql.Sample) { g.Temp, g.HasTemp = s.F, true })
	each("up", func(g *GPU, s promql.Sample) { g.Lost = s.F == 0 })
	each("alloc", func(g *GPU, s promql.Sample) { g.Allocated = s.F == 1 })
	each("xids", func(g *GPU, s promql.Sample) { g.XIDs = s.F })
	each("job", func(g *GPU, s promql.Sample) {
		g.Allocated = true
		if g.Job == "" {
			g.Job, g.User = s.Metric.Get("job_id"), s.Metric.Get("user")
		} else { // a shared GPU: every job
			g.Job += "," + s.Metric.Get("job_id")
		}
	})
	out := make([]GPU, 0, len(order))
	for _, k := range order {
		g := byKey[k]
		g.MemTotal += g.MemUsed // the exporter gives used and free
		g.State = stateOf(g)
		out = append(out, *g)
	}
	return out, errs, nil
}

func stateOf(g *GPU) string {
	switch {
	case g.Lost || g.XIDs > 0 || (g.HasTemp && g.Temp >= hotCelsius):
		return StateUnhealthy
	case g.Allocated && g.UtilAvg < idlePercent:
		return StateIdleAllocated
	case g.HasUtil && g.Util >= idlePercent:
		return StateBusy
	}
	return StateIdle
}
