package overview

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gpu-watchdog/gpu-watchdog/web/chart"
	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Alert is a firing alert as the overview lists it.
type Alert struct {
	Name     string
	Severity string
	Summary  string
	Since    time.Time
}

// Alerts lists the alerts firing now.
type Alerts interface {
	Firing() []Alert
}

// Page serves /.
type Page struct {
	Query   query.Engine
	Alerts  Alerts
	Version string
	Now     func() time.Time // nil: time.Now
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/", p.serve) }

// A GPU is busy when its utilisation averaged at least this over the last
// 5 minutes; the idle-cost alert of the rule pack uses the same threshold.
const busyPercent = "5"

// The tiles, in the order shown: what each says and its query.
var tiles = []struct {
	id, label, unit, expr string
	// trend draws the last hour under the number. Only for cheap
	// queries: a windowed one (avg_over_time) re-evaluated at every
	// minute of the hour over a whole fleet would triple the page's time.
	trend bool
}{
	{"nodes-up", "Nodes up", "", `count(up{job=~"gpuwd-agent.*"} == 1)`, false},
	{"nodes-down", "Nodes down", "", `count(up{job=~"gpuwd-agent.*"} == 0)`, false},
	{"gpus-total", "GPUs", "", `count(gpuwd_gpu_info)`, false},
	{"gpus-allocated", "Allocated to Slurm jobs", "", `count(gpuwd_gpu_allocated == 1)`, false},
	{"gpus-busy", "Busy (≥ " + busyPercent + "% over 5 min)", "", `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) >= ` + busyPercent + `)`, false},
	{"gpus-idle", "Idle", "", `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) < ` + busyPercent + `)`, false},
	{"fleet-util", "Fleet utilisation", "%", `avg(DCGM_FI_DEV_GPU_UTIL)`, true},
	{"fleet-memory", "GPU memory used", "%", `100 * sum(DCGM_FI_DEV_FB_USED) / sum(DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)`, false},
	{"fleet-power", "Power", "W", `sum(DCGM_FI_DEV_POWER_USAGE)`, true},
	{"cost-hour", "Cost per hour", "$", `sum(gpuwd_node_cost_per_hour_dollars)`, false},
	// Each pod's price spread over its GPUs, summed over the idle ones
	// (30 minutes under the threshold, as GPUIdleCost).
	{"idle-cost-hour", "Spent on idle GPUs per hour", "$", `sum(gpuwd_node_cost_per_hour_dollars * on (instance) group_left ()
		(count by (instance) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[30m]) < ` + busyPercent + `) / count by (instance) (DCGM_FI_DEV_GPU_UTIL)))`, false},
}

func (p *Page) serve(c echo.Context) error {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	v := view{Tiles: p.tiles(c.Request().Context(), now)}
	if p.Alerts != nil {
		v.Alerts = p.Alerts.Firing()
	}
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: "Overview", Path: "/", Version: p.Version}, v))
}

// tiles runs the tiles' queries concurrently.
func (p *Page) tiles(ctx context.Context, now time.Time) []tile {
	out := make([]tile, len(tiles))
	var wg sync.WaitGroup
	for i, t := range tiles {
		out[i] = tile{ID: t.id, Label: t.label, Unit: t.unit}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Value, out[i].OK, out[i].Err = query.Number(ctx, p.Query, t.expr, now)
		}()
		if !t.trend {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A failed trend only leaves the tile without its line.
			m, err := p.Query.Range(ctx, t.expr, now.Add(-time.Hour), now, time.Minute)
			if err == nil && len(m) == 1 {
				out[i].Trend = chart.FromMatrix(m, nil)[0].Points
			}
		}()
	}
	wg.Wait()
	return out
}

type view struct {
	Tiles  []tile
	Alerts []Alert
}

type tile struct {
	ID, Label, Unit string
	Value           float64
	OK              bool // false: no data
	Err             error
	Trend           []chart.Point // the last hour, a point a minute
}
