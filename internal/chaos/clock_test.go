package chaos

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/scrape"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/rules"
)

// jumpingClock is the wall clock moved by an offset the test sets.
type jumpingClock struct{ offset atomic.Int64 }

func (c *jumpingClock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *jumpingClock) jump(d time.Duration) { c.offset.Add(int64(d)) }

// storeSink writes rule output into the store, as gpuwd serve does.
type storeSink struct{ s *store.Store }

func (k storeSink) Write(ctx context.Context, vec promql.Vector) error {
	samples := make([]store.Sample, 0, len(vec))
	for _, smp := range vec {
		ref, err := k.s.Ref(smp.Metric)
		if err != nil {
			return err
		}
		samples = append(samples, store.Sample{Ref: ref, T: smp.T, V: smp.F})
	}
	return k.s.Append(ctx, samples)
}

// counter sums the samples of a counter family in reg whose labels include
// the given pairs.
func counter(t *testing.T, reg *prometheus.Registry, name string, pairs ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.Metric {
			have := map[string]string{}
			for _, l := range m.Label {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(pairs); i += 2 {
				if have[pairs[i]] != pairs[i+1] {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestChaosClockJumps moves the aggregator's wall clock forward and back
// during ingestion and rule evaluation, and checks that nothing breaks.
//
// How: Go programs read the clock through the vDSO, so faketime cannot move
// the real gpuwd's, and the machine's clock is not the test's to change.
// This test therefore runs gpuwd's own ingestion and alerting parts in this
// process, wired as gpuwd serve wires them, on one clock it moves: the
// SQLite store (aggregator/store, its maintenance every second), the scrape
// manager (aggregator/scrape) scraping a real simulated gpuwd-agent every
// second, the PromQL engine over the store, and the rule manager
// (alerts/rules) evaluating every second an alert on the agent's hot GPU
// (`for: 10s`), its ALERTS series written back to the store. Each takes the
// clock as Options.Now; the test clock is time.Now plus an offset, so its
// jumps move the monotonic reading along with the wall one, which Go's own
// clock never does (a real NTP step moves the wall reading only): the scrape
// and rule loops must therefore not lean on the monotonic reading to ride a
// jump out, and do not.
//
// Covered: a jump back by 15s held for 4s, then forward again, and a jump
// forward by 8s held for 3s, then back: no crash; samples stamped before
// the newest stored ones are refused and counted
// (gpuwd_storage_samples_rejected_total{reason="out_of_order"}), nothing
// else fails; the rule group keeps evaluating throughout (on the jumped
// clock's slots); the alert, firing before the jumps, fires throughout and
// is notified exactly once (no resolution, no return to pending, no second
// "firing"); after each return, scraped samples are stored again: at once
// after the backward excursion, and after the forward one once real time
// has passed the newest timestamp written during it (a series never takes a
// sample older than its newest one).
//
// Not covered: the real binaries (which take no clock), jumps of hours or
// days (retention and compaction judge age by the wall clock, so a jump
// past the retention period would drop history), the outbox's retry times
// (stored as wall-clock times: a jump back delays a retry by the jump), and
// pending alerts, whose `for` a forward jump shortens.
func TestChaosClockJumps(t *testing.T) {
	clk := &jumpingClock{}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{Now: clk.Now, MaintenanceInterval: time.Second, Registerer: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	agentAddr := freeAddr(t)
	agent := launch(t, agentBin, "--simulate", "h100x2", "--simulate-stable", "--hostname", "node-0", "--listen", agentAddr)
	post(t, agent.url("/debug/sim/heat?gpu=0&celsius=97"))

	cfg, err := config.Parse([]byte("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs: [{job_name: agent}]\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sm := scrape.NewManager(st, scrape.Options{Now: clk.Now, Registerer: reg, Logger: log})
	if err := sm.ApplyConfig(cfg.ScrapeConfigs); err != nil {
		t.Fatal(err)
	}
	tg, err := target.FromURL("agent", "http://"+agentAddr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	sm.Sync([]target.Target{tg})
	t.Cleanup(sm.Stop)

	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e7, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	query := rules.EngineQueryFunc(engine, st)
	var evals atomic.Int64
	var mu sync.Mutex
	var notes []rules.Notification
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"rules.yml": `groups:
- name: clock
  interval: 1s
  rules:
  - alert: GPUHot
    expr: DCGM_FI_DEV_GPU_TEMP{gpu="0"} > 90
    for: 10s
`})
	rm, err := rules.NewManager(rules.Options{
		Query: func(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
			evals.Add(1)
			return query(ctx, q, ts)
		},
		Sink: storeSink{st},
		Notify: func(_ context.Context, alerts []rules.Notification) {
			mu.Lock()
			notes = append(notes, alerts...)
			mu.Unlock()
		},
		ResendDelay: time.Hour,
		Now:         clk.Now,
		Metrics:     rules.NewMetrics(reg),
		Logger:      log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Update(ctx, []string{filepath.Join(dir, "rules.yml")}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { rm.Run(runCtx); close(ran) }()
	t.Cleanup(func() { stop(); <-ran })

	state := func() string {
		for _, g := range rm.Groups() {
			for _, r := range g.Rules() {
				if ar, ok := r.(*rules.AlertingRule); ok {
					return ar.State().String()
				}
			}
		}
		return "none"
	}
	// newest is the timestamp of the newest stored `up` sample.
	newest := func() time.Time {
		q, err := st.Querier(0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		set := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
		var last int64
		for set.Next() {
			it := set.At().Iterator(nil)
			for it.Next() != 0 {
				last = max(last, it.AtT())
			}
		}
		return time.UnixMilli(last)
	}
	eventually(t, 60*time.Second, "GPUHot firing", func() bool { return state() == "firing" })
	time.Sleep(5 * time.Second) // firing for a while; the alert active for about 15s

	// hold keeps the clock jumped for d, checking every 100ms that the
	// alert still fires, and returns the evaluations made meanwhile.
	hold := func(d time.Duration) int64 {
		before := evals.Load()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if s := state(); s != "firing" {
				t.Fatalf("the alert is %s %v into a clock jump", s, d-time.Until(end))
			}
		}
		return evals.Load() - before
	}
	// resumed waits for a sample newer than both the return of the clock
	// and every sample stored before it.
	resumed := func(what string, limit time.Duration) time.Duration {
		t.Helper()
		back := time.Now()
		after := back
		if n := newest(); n.After(after) {
			after = n
		}
		eventually(t, limit, "samples stored again after "+what, func() bool { return newest().After(after) })
		return time.Since(back)
	}

	ooo0 := counter(t, reg, "gpuwd_storage_samples_rejected_total", "reason", "out_of_order")
	scrapes0 := counter(t, reg, "gpuwd_scrapes_total")
	clk.jump(-15 * time.Second)
	backEvals := hold(4 * time.Second)
	backScrapes := counter(t, reg, "gpuwd_scrapes_total") - scrapes0
	clk.jump(15 * time.Second)
	oooBack := counter(t, reg, "gpuwd_storage_samples_rejected_total", "reason", "out_of_order") - ooo0
	resumeBack := resumed("the backward jump", 20*time.Second)

	ooo1 := counter(t, reg, "gpuwd_storage_samples_rejected_total", "reason", "out_of_order")
	missed0 := counter(t, reg, "gpuwd_scrape_missed_total")
	clk.jump(8 * time.Second)
	fwdEvals := hold(3 * time.Second)
	missedFwd := counter(t, reg, "gpuwd_scrape_missed_total") - missed0
	clk.jump(-8 * time.Second)
	resumeFwd := resumed("the forward jump", 30*time.Second)
	oooFwd := counter(t, reg, "gpuwd_storage_samples_rejected_total", "reason", "out_of_order") - ooo1
	hold(2 * time.Second)

	if backScrapes < 2 {
		t.Errorf("%v scrapes in the 4s the clock was back: the scrape loop waited for the clock", backScrapes)
	}
	if backEvals < 2 || fwdEvals < 2 {
		t.Errorf("rule queries during the jumps: %d back, %d forward; the group stopped evaluating", backEvals, fwdEvals)
	}
	if oooBack == 0 || oooFwd == 0 {
		t.Errorf("out-of-order samples refused: %v in the backward jump, %v after the forward one; want some in both", oooBack, oooFwd)
	}
	for _, reason := range []string{"too_old", "unknown_series"} {
		if n := counter(t, reg, "gpuwd_storage_samples_rejected_total", "reason", reason); n != 0 {
			t.Errorf("%v samples rejected as %s", n, reason)
		}
	}
	if n := counter(t, reg, "gpuwd_alert_transitions_total", "state", "firing"); n != 1 {
		t.Errorf("GPUHot went to firing %v times, want once", n)
	}
	if n := counter(t, reg, "gpuwd_alert_transitions_total", "state", "inactive"); n != 0 {
		t.Errorf("GPUHot resolved %v times during the jumps", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 1 {
		for _, n := range notes {
			t.Logf("notification: %s starts %s ends %s", n.Labels, n.StartsAt, n.EndsAt)
		}
		t.Errorf("%d notifications, want the one firing", len(notes))
	}
	summary(t, "clock jumps (in-process)", "store, scraper and rule manager on one clock: 15 s back for 4 s: %v scrapes, %v samples refused out-of-order, %d rule queries, "+
		"scraping stored again %.1f s after the clock came back; 8 s forward for 3 s: %v scrape ticks skipped, %d rule queries, "+
		"%v samples refused out-of-order after the return, stored again %.1f s after it; alert firing throughout, %d notification, 0 resolved, no crash",
		backScrapes, oooBack, backEvals, resumeBack.Seconds(), missedFwd, fwdEvals, oooFwd, resumeFwd.Seconds(), len(notes))
}
