package node

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/web/chart"
	"github.com/gpu-watchdog/gpu-watchdog/web/query"
	"github.com/gpu-watchdog/gpu-watchdog/web/ui"
)

// Page serves /nodes/{name}.
type Page struct {
	Query   query.Engine
	Version string
	Now     func() time.Time // nil: time.Now
}

// Register adds the page's route.
func (p *Page) Register(e *echo.Echo) { e.GET("/nodes/:name", p.serve) }

// Ranges are the spans the page offers; each chart has about 240 points.
var Ranges = []struct {
	Name string
	Span time.Duration
}{{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// nodeName is what a hostname may be; anything else is refused before it
// reaches a query.
var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// The charts: title, unit, fixed range and query (%s is the node selector).
var charts = []struct {
	id, title, unit string
	min, max        *float64
	expr            string
	name            func(labels.Labels) string
}{
	{"util", "Utilisation", "%", ptr(0), ptr(100), `DCGM_FI_DEV_GPU_UTIL{%s}`, byGPU},
	{"memory", "Memory used", "MiB", ptr(0), nil, `DCGM_FI_DEV_FB_USED{%s}`, byGPU},
	{"temperature", "Temperature", "°C", nil, nil, `DCGM_FI_DEV_GPU_TEMP{%s}`, byGPU},
	{"power", "Power", "W", ptr(0), nil, `DCGM_FI_DEV_POWER_USAGE{%s}`, byGPU},
	{"clock", "SM clock", "MHz", ptr(0), nil, `DCGM_FI_DEV_SM_CLOCK{%s}`, byGPU},
	{"throttle", "GPUs held back, by reason", "", ptr(0), nil,
		`sum by (reason) (gpuwd_clock_event_active{%s, reason!~"gpu_idle|applications_clocks_setting"})`, byReason},
}

func ptr(v float64) *float64 { return &v }

func byGPU(l labels.Labels) string    { return "GPU " + l.Get("gpu") }
func byReason(l labels.Labels) string { return l.Get("reason") }

func (p *Page) serve(c echo.Context) error {
	name := c.Param("name")
	if !nodeName.MatchString(name) {
		return echo.NewHTTPError(http.StatusBadRequest, "not a node name")
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	rng := Ranges[0]
	for _, r := range Ranges {
		if r.Name == c.QueryParam("range") {
			rng = r
		}
	}
	sel := "hostname=" + strconv.Quote(name)
	v := view{Node: name, Range: rng.Name}
	ctx := c.Request().Context()
	var wg sync.WaitGroup
	v.Charts = make([]chartPanel, len(charts))
	for i, ch := range charts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start, step := now.Add(-rng.Span), rng.Span/240
			m, err := p.Query.Range(ctx, fmt.Sprintf(ch.expr, sel), start, now, step)
			v.Charts[i] = chartPanel{ID: ch.id, Err: err, Chart: chart.Chart{Title: ch.title, Unit: ch.unit, Min: ch.min, Max: ch.max,
				Start: start, End: now, Series: chart.FromMatrix(m, ch.name)}}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); p.facts(ctx, &v, sel, rng.Name, now) }()
	wg.Wait()
	if v.Known == 0 && v.FactsErr == nil {
		return echo.NewHTTPError(http.StatusNotFound, "No node called "+name+" has reported in the last 5 minutes.")
	}
	return ui.Render(c, http.StatusOK, page(ui.Head{Title: name, Path: "/nodes", Version: p.Version}, v))
}

// facts reads the node's events, jobs and health at now.
func (p *Page) facts(ctx context.Context, v *view, sel, rng string, now time.Time) {
	q := func(expr string) promql.Vector {
		vec, err := p.Query.Instant(ctx, expr, now)
		if err != nil && v.FactsErr == nil {
			v.FactsErr = err
		}
		return vec
	}
	v.Known = len(q(`gpuwd_gpu_info{` + sel + `}`))
	for _, s := range q(`increase(gpuwd_xid_errors_total{` + sel + `}[` + rng + `]) > 0`) {
		v.Events = append(v.Events, event{GPU: s.Metric.Get("gpu"), What: "XID " + s.Metric.Get("xid"), Count: s.F})
	}
	for _, s := range q(`increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{` + sel + `}[` + rng + `]) > 0`) {
		v.Events = append(v.Events, event{GPU: s.Metric.Get("gpu"), What: "ECC double-bit errors", Count: s.F})
	}
	for _, s := range q(`DCGM_FI_DEV_ROW_REMAP_FAILURE{` + sel + `} == 1`) {
		v.Events = append(v.Events, event{GPU: s.Metric.Get("gpu"), What: "row remapping failed: the GPU needs replacing", Count: 1})
	}
	slices.SortFunc(v.Events, func(a, b event) int { return cmpGPU(a.GPU, b.GPU) })
	for _, s := range q(`gpuwd_gpu_job_info{` + sel + `}`) {
		v.Jobs = append(v.Jobs, job{GPU: s.Metric.Get("gpu"), ID: s.Metric.Get("job_id"), User: s.Metric.Get("user"), Partition: s.Metric.Get("partition")})
	}
	slices.SortFunc(v.Jobs, func(a, b job) int { return cmpGPU(a.GPU, b.GPU) })
	// Health comes by instance: the agent's own series carry no hostname.
	inst := ""
	if vec := q(`max by (instance) (gpuwd_gpu_info{` + sel + `})`); len(vec) > 0 {
		inst = vec[0].Metric.Get("instance")
	}
	if inst == "" {
		return
	}
	isel := "instance=" + strconv.Quote(inst)
	for _, s := range q(`up{` + isel + `}`) {
		v.Health = append(v.Health, health{What: "agent scraped", OK: s.F == 1})
	}
	for _, s := range q(`gpuwd_nvml_up{` + isel + `}`) {
		v.Health = append(v.Health, health{What: "NVML", OK: s.F == 1})
	}
	for _, s := range q(`gpuwd_collector_success{` + isel + `} == 0`) {
		v.Health = append(v.Health, health{What: "collector " + s.Metric.Get("collector"), OK: false})
	}
	for _, s := range q(`gpuwd_slurm_daemon_up{` + isel + `}`) {
		v.Health = append(v.Health, health{What: s.Metric.Get("daemon"), OK: s.F == 1})
	}
	v.Instance = inst
}

func cmpGPU(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}

type view struct {
	Node, Instance, Range string
	Known                 int // GPUs reporting now
	Charts                []chartPanel
	Events                []event
	Jobs                  []job
	Health                []health
	FactsErr              error
}

type chartPanel struct {
	ID    string
	Chart chart.Chart
	Err   error
}

type event struct {
	GPU, What string
	Count     float64
}

type job struct{ GPU, ID, User, Partition string }

type health struct {
	What string
	OK   bool
}
