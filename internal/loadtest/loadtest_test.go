package loadtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

var gpuwdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-loadtest-test")
	if err != nil {
		panic(err)
	}
	if gpuwdBin, err = testenv.BuildGpuwd(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A small load test runs end to end: every scrape, rule evaluation, query
// and page succeeds, and the report names what it measured. (How fast is
// for make loadtest and BENCHMARKS.md, not for a test.)
func TestSmallFleetEndToEnd(t *testing.T) {
	o := DefaultOptions()
	o.Gpuwd, o.Agents, o.GPUs, o.Duration, o.Users = gpuwdBin, 12, 2, 6*time.Second, 3
	o.ScrapeInterval, o.EvalInterval, o.QueryPause, o.PagePause = time.Second, time.Second, 100*time.Millisecond, 200*time.Millisecond
	o.Rules = []string{"../../packaging/rules/*.yml"}
	o.DataDir = t.TempDir()
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	r.Markdown(&md)
	if !r.OK() {
		t.Fatalf("something failed:\n%s", md.String())
	}
	if r.Scrapes < float64(o.Agents)*3 || r.SamplesPerSecond <= 0 || r.Series < float64(o.Agents)*100 {
		t.Errorf("too little was scraped:\n%s", md.String())
	}
	if r.CPUCores <= 0 || r.RSSPeak <= 0 || r.RuleSeconds <= 0 {
		t.Errorf("the aggregator's CPU, memory or rules were not measured:\n%s", md.String())
	}
	for _, want := range []string{"| scrape success | 100.000 %", "| `/nodes/<node>` |", "| fleet utilisation, 1 h range |", "3 users at once"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, md.String())
		}
	}
}

// The bounds hold: a load test cannot be made unbounded by mistake.
func TestOptionsAreBounded(t *testing.T) {
	o := DefaultOptions()
	o.Gpuwd = gpuwdBin
	if err := o.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	o.Agents, o.GPUs, o.Duration, o.ScrapeInterval, o.Users = MaxAgents+1, 9, 31*time.Minute, 0, MaxUsers+1
	o.Gpuwd = filepath.Join(t.TempDir(), "missing")
	err := o.Check()
	for _, want := range []string{"agents 1001", "gpus 9", "duration 31m0s", "scrape interval 0s", "users 101", "make build"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to name %q", err, want)
		}
	}
}
