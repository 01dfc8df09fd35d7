// Command gpuwd-loadtest puts a gpuwd serve under the load of a simulated
// fleet on loopback for a fixed time and prints what it measured as
// Markdown (see package loadtest). make loadtest runs it:
//
//	gpuwd-loadtest --gpuwd bin/gpuwd --agents 1000 --gpus 8 --duration 5m
//
// It exits 1 when a scrape, a query or a page failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gpu-watchdog/gpu-watchdog/internal/loadtest"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	o := loadtest.DefaultOptions()
	fs := flag.NewFlagSet("gpuwd-loadtest", flag.ContinueOnError)
	fs.StringVar(&o.Gpuwd, "gpuwd", o.Gpuwd, "the gpuwd binary to load")
	fs.IntVar(&o.Agents, "agents", o.Agents, fmt.Sprintf("simulated agents (at most %d)", loadtest.MaxAgents))
	fs.IntVar(&o.GPUs, "gpus", o.GPUs, fmt.Sprintf("GPUs per agent (at most %d)", loadtest.MaxGPUs))
	fs.StringVar(&o.Model, "model", o.Model, "simulated GPU model")
	fs.DurationVar(&o.Duration, "duration", o.Duration, fmt.Sprintf("measured time after the warm-up (at most %v)", loadtest.MaxDuration))
	fs.DurationVar(&o.ScrapeInterval, "scrape-interval", o.ScrapeInterval, "scrape interval")
	fs.DurationVar(&o.EvalInterval, "evaluation-interval", o.EvalInterval, "rule evaluation interval")
	rules := fs.String("rules", strings.Join(o.Rules, ","), "comma-separated rule file globs (empty: no rules)")
	fs.IntVar(&o.Users, "users", o.Users, fmt.Sprintf("people using it at once, each running the queries and opening the pages (at most %d)", loadtest.MaxUsers))
	fs.DurationVar(&o.QueryPause, "query-pause", o.QueryPause, "pause between one user's queries")
	fs.DurationVar(&o.PagePause, "page-pause", o.PagePause, "pause between dashboard page loads")
	fs.StringVar(&o.DataDir, "data-dir", "", "gpuwd's data directory, kept afterwards (default: a temporary one, removed)")
	out := fs.String("o", "", "also write the report to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.Rules = nil
	for _, r := range strings.Split(*rules, ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.Rules = append(o.Rules, r)
		}
	}
	if err := o.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "gpuwd-loadtest:", err)
		return 2
	}
	o.Progress = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "gpuwd-loadtest: "+format+"\n", args...) }
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	report, err := loadtest.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpuwd-loadtest:", err)
		return 1
	}
	report.Markdown(os.Stdout)
	if *out != "" {
		if err := report.WriteFile(*out); err != nil {
			fmt.Fprintln(os.Stderr, "gpuwd-loadtest:", err)
			return 1
		}
	}
	if !report.OK() {
		fmt.Fprintln(os.Stderr, "gpuwd-loadtest: some scrapes, rule evaluations, queries or pages failed (see the tables)")
		return 1
	}
	return 0
}
