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
	// Refresh is how often viewers' pages update themselves: the numbers
	// are shared by the viewers asking within it (0: 15s).
	Refresh time.Duration

	cache *query.Cache // Query's answers, shared by viewers and trends
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) {
	slot := p.Refresh
	if slot <= 0 {
		slot = 15 * time.Second
	}
	p.cache = query.NewCache(p.Query, slot, trendSpan)
	e.GET("/", p.serve)
}

// Trends show the last hour, a point a minute, and end with the number
// above them. Their points are evaluated once and kept, so moving on by a
// minute costs one evaluation, not an hour of them, and no viewer waits
// for it (query.Cache.Trend).
const trendSpan, trendStep = time.Hour, time.Minute

const busyPercent = query.BusyPercent

// The tiles, in the order shown: what each says, its query, and whether
// it draws its trend under the number.
var tiles = []struct {
	id, label, unit, expr string
	trend                 bool
}{
	{"nodes-up", "Nodes up", "", `count(up{job=~"gpuwd-agent.*"} == 1)`, false},
	{"nodes-down", "Nodes down", "", `count(up{job=~"gpuwd-agent.*"} == 0)`, false},
	{"gpus-total", "GPUs", "", `count(gpuwd_gpu_info)`, false},
	{"gpus-allocated", "Allocated to Slurm jobs", "", `count(gpuwd_gpu_allocated == 1)`, false},
	{"gpus-busy", "Busy (≥ " + busyPercent + "% over 5 min)", "", `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) >= ` + busyPercent + `)`, true},
	{"gpus-idle", "Idle", "", `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) < ` + busyPercent + `)`, false},
	{"fleet-util", "Fleet utilisation", "%", `avg(DCGM_FI_DEV_GPU_UTIL)`, true},
	{"fleet-memory", "GPU memory used", "%", `100 * sum(DCGM_FI_DEV_FB_USED) / sum(DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)`, false},
	{"fleet-power", "Power", "W", `sum(DCGM_FI_DEV_POWER_USAGE)`, true},
	{"cost-hour", "Cost per hour", "$", `sum(gpuwd_node_cost_per_hour_dollars)`, true},
	{"idle-cost-hour", "Spent on idle GPUs per hour", "$", query.IdleCostPerHour, true},
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

// tiles runs the tiles' queries and trends concurrently.
func (p *Page) tiles(ctx context.Context, now time.Time) []tile {
	end := now.Truncate(trendStep)
	out := make([]tile, len(tiles))
	var wg sync.WaitGroup
	for i, t := range tiles {
		out[i] = tile{ID: t.id, Label: t.label, Unit: t.unit}
		wg.Go(func() {
			out[i].Value, out[i].OK, out[i].Err = query.Number(ctx, p.cache, t.expr, now)
		})
		if t.trend {
			wg.Go(func() {
				// A failed trend only leaves the tile without its line.
				m, err := p.cache.Trend(ctx, t.expr, end.Add(-trendSpan), end, trendStep)
				if s := chart.FromMatrix(m, nil); err == nil && len(s) == 1 {
					out[i].Trend = s[0].Points
				}
			})
		}
	}
	wg.Wait()
	for i := range out {
		if t := &out[i]; len(t.Trend) > 0 && t.OK && now.After(end) {
			t.Trend = append(t.Trend, chart.Point{T: now.UTC(), V: t.Value})
		}
	}
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
