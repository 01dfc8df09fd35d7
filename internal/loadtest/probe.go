package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
)

// timings collects how long each named request took.
type timings struct {
	mu     sync.Mutex
	order  []string
	took   map[string][]time.Duration
	bytes  map[string]int // the last response's size
	errs   map[string]int
	lastEr map[string]string
}

func newTimings() *timings {
	return &timings{took: map[string][]time.Duration{}, bytes: map[string]int{}, errs: map[string]int{}, lastEr: map[string]string{}}
}

func (t *timings) record(name string, took time.Duration, size int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.took[name]; !seen {
		t.order = append(t.order, name)
		t.took[name] = nil
	}
	if err != nil {
		t.errs[name]++
		t.lastEr[name] = err.Error()
		return
	}
	t.took[name] = append(t.took[name], took)
	t.bytes[name] = size
}

// Timing is the summary of one kind of request.
type Timing struct {
	Name          string
	Count, Errors int
	P50, P95, Max time.Duration
	Bytes         int    // size of the last answer (pages)
	LastError     string // "" without errors
}

func (t *timings) summary() []Timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Timing
	for _, name := range t.order {
		d := slices.Clone(t.took[name])
		slices.Sort(d)
		s := Timing{Name: name, Count: len(d), Errors: t.errs[name], Bytes: t.bytes[name], LastError: t.lastEr[name]}
		if len(d) > 0 {
			s.P50, s.P95, s.Max = quantile(d, 0.5), quantile(d, 0.95), d[len(d)-1]
		}
		out = append(out, s)
	}
	return out
}

// quantile of sorted d, nearest rank.
func quantile(d []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(d))+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

// A query a Grafana user of the fleet would run: instant, or over the
// last rangeOf with step.
type query struct {
	name, expr string
	rangeOf    time.Duration // 0: instant
	step       time.Duration
}

func userQueries(node string, interval time.Duration) []query {
	step := max(interval, 15*time.Second)
	return []query{
		{name: "fleet utilisation by node", expr: `avg by (hostname) (DCGM_FI_DEV_GPU_UTIL)`},
		{name: "hottest GPUs", expr: `topk(10, DCGM_FI_DEV_GPU_TEMP)`},
		{name: "fleet power", expr: `sum(DCGM_FI_DEV_POWER_USAGE)`},
		{name: "idle GPUs (5m mean < 5 %)", expr: `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) < 5)`},
		{name: "fleet utilisation, 1 h range", expr: `avg(DCGM_FI_DEV_GPU_UTIL)`, rangeOf: time.Hour, step: step},
		{name: "energy rate by node, 1 h range", expr: `sum by (hostname) (rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m]))`, rangeOf: time.Hour, step: step},
		{name: "one node's GPUs, 1 h range", expr: fmt.Sprintf(`DCGM_FI_DEV_GPU_UTIL{hostname=%q}`, node), rangeOf: time.Hour, step: step},
	}
}

// runQueries runs the queries one after another, pause apart, until ctx
// ends, as one user at a dashboard does.
func runQueries(ctx context.Context, c *api.Client, queries []query, pause time.Duration, t *timings) {
	for {
		for _, q := range queries {
			qctx, cancel := context.WithTimeout(ctx, time.Minute)
			start := time.Now()
			var err error
			if q.rangeOf == 0 {
				_, err = c.Query(qctx, q.expr, time.Time{})
			} else {
				end := time.Now()
				_, err = c.QueryRange(qctx, q.expr, end.Add(-q.rangeOf), end, q.step)
			}
			took := time.Since(start)
			cancel()
			if ctx.Err() != nil {
				return
			}
			t.record(q.name, took, 0, err)
			if !sleep(ctx, pause) {
				return
			}
		}
	}
}

// dashboardPages are the pages a person opens, in order.
func dashboardPages(node string) []string {
	return []string{"/", "/nodes", "/nodes/" + node, "/targets", "/alerts"}
}

// runPages fetches each page whole, pause apart, until ctx ends.
func runPages(ctx context.Context, client *http.Client, base string, pages []string, pause time.Duration, t *timings) {
	for {
		for _, p := range pages {
			start := time.Now()
			size, err := fetch(ctx, client, base+p)
			took := time.Since(start)
			if ctx.Err() != nil {
				return
			}
			name := p
			if strings.HasPrefix(p, "/nodes/") {
				name = "/nodes/<node>"
			}
			t.record(name, took, size, err)
			if !sleep(ctx, pause) {
				return
			}
		}
	}
}

func fetch(ctx context.Context, client *http.Client, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s", resp.Status)
	}
	return int(n), err
}

// sleep waits d or until ctx ends, reporting whether it waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
