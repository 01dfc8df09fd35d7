package loadtest

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Markdown writes r as the tables BENCHMARKS.md holds.
func (r *Report) Markdown(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "%d agents × %d simulated %s (%s series in all), scraped every %v, rules every %v; "+
		"measured for %v after a %v warm-up. %s; %s.\n\n",
		o.Agents, o.GPUs, strings.ToUpper(o.Model), thousands(r.Series), o.ScrapeInterval, o.EvalInterval,
		r.Measured.Round(time.Second), r.Warmup.Round(100*time.Millisecond), machine(), gpuwdVersion(o.Gpuwd))
	fmt.Fprintln(w, "| measure | value |")
	fmt.Fprintln(w, "|---|---|")
	success := 100.0
	if r.Scrapes > 0 {
		success = 100 * (r.Scrapes - r.Failed) / r.Scrapes
	}
	failed := ""
	if r.Failed > 0 {
		var parts []string
		for result, n := range r.FailedBy {
			parts = append(parts, fmt.Sprintf("%s %s", thousands(n), result))
		}
		sort.Strings(parts)
		failed = "; failed: " + strings.Join(parts, ", ")
	}
	fmt.Fprintf(w, "| scrape success | %.3f %% (%s scrapes, %s missed%s) |\n", success, thousands(r.Scrapes), thousands(r.Missed), failed)
	fmt.Fprintf(w, "| scrape lag (start after its schedule) | mean %s, p99 ≤ %s |\n", seconds(r.LagMean), seconds(r.LagP99))
	fmt.Fprintf(w, "| scrape duration (request to commit) | mean %s, p99 ≤ %s |\n", seconds(r.DurationMean), seconds(r.DurP99))
	fmt.Fprintf(w, "| ingestion | %s samples/s |\n", thousands(r.SamplesPerSecond))
	fmt.Fprintf(w, "| aggregator CPU | %.2f cores (the agents and probes in the load generator: %.2f cores) |\n", r.CPUCores, r.LoaderCores)
	fmt.Fprintf(w, "| aggregator RSS | %s at the end, %s sampled max, %s peak (VmHWM, warm-up included) |\n",
		mib(r.RSSEnd), mib(r.RSSMax), mib(r.RSSPeak))
	fmt.Fprintf(w, "| rule evaluation | %s for the last round of every group; %s failures, %s missed |\n",
		seconds(r.RuleSeconds), thousands(r.RuleFailures), thousands(r.RuleMiss))
	fmt.Fprintf(w, "| goroutines | %s at the start, %s at the end |\n", thousands(r.GoroutinesStart), thousands(r.End))
	fmt.Fprintf(w, "| shutdown (SIGTERM to exit) | %s |\n", seconds(r.Stop.Seconds()))

	fmt.Fprintf(w, "\nQueries while loaded (%s, each with %v between queries):\n\n", people(o.Users, "user"), o.QueryPause)
	fmt.Fprintln(w, "| query | n | p50 | p95 | max | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, t := range r.Queries {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", t.Name, t.Count, dur(t.P50), dur(t.P95), dur(t.Max), errText(t))
	}
	fmt.Fprintf(w, "\nDashboard pages while loaded (%s, each with %v between pages; the whole response on loopback):\n\n", people(o.Users, "person"), o.PagePause)
	fmt.Fprintln(w, "| page | n | p50 | p95 | max | size | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, t := range r.Pages {
		fmt.Fprintf(w, "| `%s` | %d | %s | %s | %s | %s KiB | %s |\n", t.Name, t.Count, dur(t.P50), dur(t.P95), dur(t.Max),
			thousands(float64(t.Bytes)/1024), errText(t))
	}
}

// WriteFile writes the Markdown report to path.
func (r *Report) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r.Markdown(f)
	return f.Close()
}

// OK reports whether nothing failed: every scrape, query and page.
func (r *Report) OK() bool {
	if r.Failed > 0 || r.Missed > 0 || r.RuleFailures > 0 {
		return false
	}
	for _, t := range append(append([]Timing{}, r.Queries...), r.Pages...) {
		if t.Errors > 0 || t.Count == 0 {
			return false
		}
	}
	return true
}

func errText(t Timing) string {
	if t.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", t.Errors, strings.ReplaceAll(t.LastError, "|", `\|`))
}

func dur(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return seconds(d.Seconds())
}

// seconds formats s with a unit people read at a glance.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "–"
	case math.IsInf(s, 1):
		return "∞"
	case s < 0.001:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

func mib(b int64) string { return thousands(float64(b)/(1<<20)) + " MiB" }

// thousands formats v rounded, with thin separators: 541,000.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// machine names the CPU and its count, as BENCHMARKS.md does.
func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d × %s", runtime.NumCPU(), model)
}

func gpuwdVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "gpuwd (version unknown)"
	}
	return strings.TrimSpace(string(out))
}

// people is "one user" or "12 users at once".
func people(n int, who string) string {
	if n == 1 {
		return "one " + who
	}
	if who == "person" {
		return fmt.Sprintf("%d people at once", n)
	}
	return fmt.Sprintf("%d %ss at once", n, who)
}
