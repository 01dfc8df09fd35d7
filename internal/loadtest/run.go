package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
)

// fleetJob is the scrape job of the simulated agents.
const fleetJob = "fleet"

// Bounds: a load test is bounded in size and time.
const (
	MaxAgents   = 1000
	MaxGPUs     = 8
	MaxDuration = 30 * time.Minute
	MaxUsers    = 100
)

// Options say what load to put on which gpuwd.
type Options struct {
	Gpuwd          string        // the gpuwd binary
	Agents         int           // simulated agents, 1..MaxAgents
	GPUs           int           // GPUs per agent, 1..MaxGPUs
	Model          string        // simulated GPU model (h100, a100, l4…)
	Duration       time.Duration // measured time, after the warm-up
	ScrapeInterval time.Duration
	EvalInterval   time.Duration // rule evaluation
	Rules          []string      // rule file globs (the default rule pack)
	Users          int           // people at once, each running the queries and opening the pages (1..MaxUsers)
	QueryPause     time.Duration // between one user's queries
	PagePause      time.Duration // between one person's page loads
	DataDir        string        // gpuwd's data directory; "" a temporary one, removed after
	Progress       func(format string, args ...any)
}

// DefaultOptions is the full fleet for five minutes.
func DefaultOptions() Options {
	return Options{Gpuwd: "bin/gpuwd", Agents: MaxAgents, GPUs: MaxGPUs, Model: "h100", Duration: 5 * time.Minute,
		ScrapeInterval: 15 * time.Second, EvalInterval: 30 * time.Second, Rules: []string{"packaging/rules/*.yml"},
		Users: 1, QueryPause: time.Second, PagePause: 2 * time.Second}
}

// Check reports every problem with o at once.
func (o Options) Check() error {
	var errs []error
	if o.Agents < 1 || o.Agents > MaxAgents {
		errs = append(errs, fmt.Errorf("agents %d: want 1 to %d", o.Agents, MaxAgents))
	}
	if o.GPUs < 1 || o.GPUs > MaxGPUs {
		errs = append(errs, fmt.Errorf("gpus %d: want 1 to %d", o.GPUs, MaxGPUs))
	}
	if o.Duration < time.Second || o.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration %v: want 1s to %v", o.Duration, MaxDuration))
	}
	if o.ScrapeInterval < time.Second {
		errs = append(errs, fmt.Errorf("scrape interval %v: want at least 1s", o.ScrapeInterval))
	}
	if o.EvalInterval < time.Second {
		errs = append(errs, fmt.Errorf("evaluation interval %v: want at least 1s", o.EvalInterval))
	}
	if o.Users < 1 || o.Users > MaxUsers {
		errs = append(errs, fmt.Errorf("users %d: want 1 to %d", o.Users, MaxUsers))
	}
	if o.QueryPause < 0 || o.PagePause < 0 {
		errs = append(errs, errors.New("pauses cannot be negative"))
	}
	if _, err := os.Stat(o.Gpuwd); err != nil {
		errs = append(errs, fmt.Errorf("gpuwd binary: %w (make build)", err))
	}
	return errors.Join(errs...)
}

// Report is what a load test measured.
type Report struct {
	Options  Options
	Series   float64       // series in the store at the end
	Warmup   time.Duration // start of gpuwd to every target scraped once
	Measured time.Duration

	Scrapes, Failed, Missed float64
	FailedBy                map[string]float64 // failed scrapes by result
	LagMean, LagP99         float64            // seconds a scrape started after its schedule (p99: a bucket bound)
	DurationMean, DurP99    float64            // seconds a scrape took, request to commit
	SamplesPerSecond        float64
	CPUCores, LoaderCores   float64 // the aggregator's; this process' (the agents and the probes)
	RSSEnd, RSSMax, RSSPeak int64   // bytes: at the end, the largest sampled, VmHWM
	GoroutinesStart, End    float64
	RuleSeconds             float64 // the rule groups' last evaluations, summed
	RuleFailures, RuleMiss  float64
	Queries, Pages          []Timing
	Stop                    time.Duration // SIGTERM to exit
}

// Run starts the fleet and gpuwd, waits until every agent has been scraped
// once, then measures for o.Duration under the probes' load.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	dir := o.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gpuwd-loadtest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	progress("starting %d simulated agents with %s×%d", o.Agents, o.Model, o.GPUs)
	f, err := startFleet(o.Agents, fmt.Sprintf("%sx%d", o.Model, o.GPUs), o.ScrapeInterval)
	if err != nil {
		return nil, err
	}
	defer f.stop()
	cfg, err := writeConfig(dir, o, f.targets)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	agg, err := startAggregator(o.Gpuwd, "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--public-dashboard",
		"--dashboard-refresh", "0")
	if err != nil {
		return nil, err
	}
	defer func() {
		if !agg.exited() {
			agg.kill()
		}
	}()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2*o.Users + 4 // each user's queries and pages keep their connection
	client := &http.Client{Timeout: time.Minute, Transport: tr}
	progress("gpuwd serves on %s; waiting until every agent is scraped once", agg.base)
	if err := waitScraped(ctx, client, agg, o.Agents, 2*o.ScrapeInterval+time.Minute); err != nil {
		return nil, err
	}
	r := &Report{Options: o, Warmup: time.Since(started)}
	progress("warm-up done in %v; measuring for %v", r.Warmup.Round(time.Millisecond), o.Duration)

	pid := agg.cmd.Process.Pid
	c0, err := readCounters(ctx, client, agg.base)
	if err != nil {
		return nil, err
	}
	p0, err := readProc(pid)
	if err != nil {
		return nil, err
	}
	self0, _ := readProc(os.Getpid())
	t0 := time.Now()

	loadCtx, stopLoad := context.WithTimeout(ctx, o.Duration)
	queries, pages := newTimings(), newTimings()
	var wg sync.WaitGroup
	for u := range o.Users {
		// Each user looks at another node and starts elsewhere in the
		// lists, so they do not move in step.
		node := nodeName((o.Agents/2 + u*7919) % o.Agents)
		qs, ps := userQueries(node, o.ScrapeInterval), dashboardPages(node)
		qs, ps = append(qs[u%len(qs):], qs[:u%len(qs)]...), append(ps[u%len(ps):], ps[:u%len(ps)]...)
		wg.Add(2)
		go func() {
			defer wg.Done()
			runQueries(loadCtx, &api.Client{BaseURL: agg.base, HTTP: client}, qs, o.QueryPause, queries)
		}()
		go func() { defer wg.Done(); runPages(loadCtx, client, agg.base, ps, o.PagePause, pages) }()
	}
	wg.Add(1)
	var rssMax int64
	go func() {
		defer wg.Done()
		for {
			if s, err := readProc(pid); err == nil {
				rssMax = max(rssMax, s.rss)
			}
			if !sleep(loadCtx, 5*time.Second) {
				return
			}
		}
	}()
	wg.Wait()
	stopLoad()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if agg.exited() {
		return nil, fmt.Errorf("gpuwd exited during the load test:\n%s", agg.lastLines())
	}
	r.Measured = time.Since(t0)
	c1, err := readCounters(context.Background(), client, agg.base)
	if err != nil {
		return nil, err
	}
	p1, err := readProc(pid)
	if err != nil {
		return nil, err
	}
	self1, _ := readProc(os.Getpid())
	r.fill(c0, c1, p0, p1, self0, self1, rssMax)
	r.Queries, r.Pages = queries.summary(), pages.summary()

	progress("stopping gpuwd")
	stopAt := time.Now()
	if err := agg.stop(); err != nil {
		return nil, err
	}
	r.Stop = time.Since(stopAt)
	return r, nil
}

func (r *Report) fill(c0, c1 counters, p0, p1, self0, self1 procStats, rssMax int64) {
	secs := r.Measured.Seconds()
	r.FailedBy = map[string]float64{}
	for result, n := range c1.scrapes {
		d := n - c0.scrapes[result]
		r.Scrapes += d
		if result != "success" && d > 0 {
			r.Failed += d
			r.FailedBy[result] = d
		}
	}
	r.Missed = c1.missed - c0.missed
	lag, dur := c1.delay.since(c0.delay), c1.duration.since(c0.duration)
	r.LagMean, r.LagP99 = lag.mean(), lag.quantileBound(0.99)
	r.DurationMean, r.DurP99 = dur.mean(), dur.quantileBound(0.99)
	r.SamplesPerSecond = (c1.appended - c0.appended) / secs
	r.Series = c1.series
	r.CPUCores = (p1.cpuSeconds - p0.cpuSeconds) / secs
	r.LoaderCores = (self1.cpuSeconds - self0.cpuSeconds) / secs
	r.RSSEnd, r.RSSMax, r.RSSPeak = p1.rss, max(rssMax, p1.rss), p1.hwm
	r.GoroutinesStart, r.End = c0.goroutines, c1.goroutines
	r.RuleSeconds = c1.ruleSeconds
	r.RuleFailures, r.RuleMiss = c1.ruleFailures-c0.ruleFailures, c1.ruleMissed-c0.ruleMissed
}

// writeConfig writes gpuwd.yml and the file_sd file of the fleet.
func writeConfig(dir string, o Options, targets []string) (string, error) {
	sd, err := json.Marshal([]map[string]any{{"targets": targets}})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.json"), sd, 0o600); err != nil {
		return "", err
	}
	var rules []string
	for _, pattern := range o.Rules {
		abs, err := filepath.Abs(pattern)
		if err != nil {
			return "", err
		}
		rules = append(rules, fmt.Sprintf("%q", abs))
	}
	timeout := min(o.ScrapeInterval, 10*time.Second)
	cfg := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s
rule_files: [%s]
scrape_configs:
  - job_name: %s
    file_sd_configs: [{files: [%q]}]
`, o.ScrapeInterval, timeout, o.EvalInterval, strings.Join(rules, ", "), fleetJob, filepath.Join(dir, "fleet.json"))
	path := filepath.Join(dir, "gpuwd.yml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// waitScraped waits until the fleet job has been scraped n times: every
// agent once, as the scrapes are spread over one interval.
func waitScraped(ctx context.Context, client *http.Client, agg *aggregator, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := readCounters(ctx, client, agg.base)
		if err == nil {
			total := 0.0
			for _, v := range c.scrapes {
				total += v
			}
			if total >= float64(n) {
				return nil
			}
		}
		if agg.exited() {
			return fmt.Errorf("gpuwd exited during the warm-up:\n%s", agg.lastLines())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not every agent was scraped within %v (last error: %v)", limit, err)
		}
		if !sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
}
