package scrape

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/store"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

const (
	fastInterval = 200 * time.Millisecond
	fastTimeout  = 150 * time.Millisecond
)

func newManager(t *testing.T, st *fakeStorage, jobs ...config.ScrapeConfig) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewManager(st, Options{Logger: testLogger(t), Registerer: reg, Version: "test"})
	if err := m.ApplyConfig(jobs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m, reg
}

func statusOf(m *Manager, url string) (Status, bool) {
	for _, s := range m.Targets() {
		if s.URL == url {
			return s, true
		}
	}
	return Status{}, false
}

// upCount counts up=1 samples stored for an instance.
func upCount(st *fakeStorage, instance string) int {
	n := 0
	for _, p := range st.points("__name__", "up", "instance", instance) {
		if p.v == 1 {
			n++
		}
	}
	return n
}

// Every way a target can fail leaves the others scraped as usual.
func TestManagerFailuresAreIsolated(t *testing.T) {
	st := newFakeStorage()
	good := newAgent(t, readFile(t, goldenFile), textPlain)
	small := newAgent(t, "a 1\n", textPlain)
	status := newAgent(t, "", textPlain)
	status.set("oops", 503)
	garbage := newAgent(t, "<!DOCTYPE html>\n<html>\n", "text/html")
	overLimit := newAgent(t, "a 1\nb 2\nc 3\n", textPlain)
	storeFails := newAgent(t, "a 1\n", textPlain)
	storeHangs := newAgent(t, "a 1\n", textPlain)

	fast := jobConfig("fast", fastInterval, fastTimeout)
	limited := jobConfig("limited", fastInterval, fastTimeout)
	limited.SampleLimit = 2
	smallBody := jobConfig("small-body", fastInterval, fastTimeout)
	smallBody.BodySizeLimit = 1 << 20
	m, reg := newManager(t, st, fast, limited, smallBody)

	inst := func(a *agent) string { return strings.TrimPrefix(a.srv.URL, "http://") }
	failing := map[string]string{ // instance → store error
		inst(storeFails): "storing samples: disk full",
		inst(storeHangs): "storing samples: context deadline exceeded",
	}
	st.setAppendErr(func(ctx context.Context, samples []store.Sample) error {
		st.mu.Lock()
		instance := st.lsets[samples[0].Ref].Get("instance")
		st.mu.Unlock()
		switch failing[instance] {
		case "storing samples: disk full":
			return errors.New("disk full")
		case "storing samples: context deadline exceeded":
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})

	targets := []target.Target{
		targetFor(t, "fast", good.srv.URL),
		targetFor(t, "fast", small.srv.URL),
		targetFor(t, "fast", status.srv.URL),
		targetFor(t, "fast", garbage.srv.URL),
		targetFor(t, "limited", overLimit.srv.URL),
		targetFor(t, "small-body", endlessServer(t, false).URL),
		targetFor(t, "fast", silentServer(t).URL),
		targetFor(t, "fast", refusedURL(t)),
		targetFor(t, "fast", storeFails.srv.URL),
		targetFor(t, "fast", storeHangs.srv.URL),
	}
	wantErr := []string{
		"", "",
		"server returned HTTP status 503 Service Unavailable",
		"parse: line 1: ",
		"sample limit exceeded (3 samples, limit 2)",
		"body size limit exceeded (1048576 bytes)",
		"context deadline exceeded (timeout 150ms)",
		"connect: connection refused",
		"storing samples: disk full",
		"storing samples: context deadline exceeded",
	}
	m.Sync(targets)

	waitFor(t, "every target to be scraped as expected, good ones three times", func() bool {
		for i, tg := range targets {
			s, ok := statusOf(m, tg.URL())
			if !ok || s.LastScrape.IsZero() {
				return false
			}
			if wantErr[i] == "" {
				if s.Health != HealthUp || upCount(st, tg.Address) < 3 {
					return false
				}
			} else if s.Health != HealthDown || !strings.Contains(s.LastError, wantErr[i]) {
				return false
			}
		}
		return true
	})
	// The failures were counted by kind.
	for _, result := range []string{resultSuccess, resultHTTP, resultParse, resultSampleLimit, resultBodySize, resultTimeout, resultStore} {
		if n := counterValue(t, m.metrics.scrapes.WithLabelValues(jobOf(result), result)); n == 0 {
			t.Errorf("no scrape counted as %s", result)
		}
	}
	if !gathered(t, reg, "gpuwd_scrape_delay_seconds") {
		t.Error("gpuwd_scrape_delay_seconds is not registered")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func gathered(t *testing.T, reg *prometheus.Registry, name string) bool {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return true
		}
	}
	return false
}

func jobOf(result string) string {
	switch result {
	case resultSampleLimit:
		return "limited"
	case resultBodySize:
		return "small-body"
	}
	return "fast"
}

func TestManagerSyncStatusAndStop(t *testing.T) {
	st := newFakeStorage()
	a := newAgent(t, "# TYPE a gauge\n# HELP a An a.\na 1\n", textPlain)
	b := newAgent(t, "b 1\n", textPlain)
	m, _ := newManager(t, st, jobConfig("j", fastInterval, fastTimeout))

	ta := targetFor(t, "j", a.srv.URL)
	ta.Labels = map[string]string{"rack": "r1"}
	ta.Meta = map[string]string{"gpuwd_node": "n1"}
	ta.Source = "static"
	tb := targetFor(t, "j", b.srv.URL)
	orphan := targetFor(t, "nope", b.srv.URL)
	m.Sync([]target.Target{ta, tb, orphan, ta})

	if d := m.Dropped(); len(d) != 1 || d[0].Job != "nope" {
		t.Errorf("Dropped() = %v", d)
	}
	waitFor(t, "both targets up", func() bool {
		ts := m.Targets()
		return len(ts) == 2 && ts[0].Health == HealthUp && ts[1].Health == HealthUp
	})
	s, _ := statusOf(m, ta.URL())
	if s.Job != "j" || s.Labels["rack"] != "r1" || s.Labels["instance"] != ta.Address || s.Labels["job"] != "j" ||
		s.DiscoveredLabels["__meta_gpuwd_node"] != "n1" || s.DiscoveredLabels["__address__"] != ta.Address ||
		s.Source != "static" || s.Interval != fastInterval || s.Timeout != fastTimeout || s.LastDuration <= 0 {
		t.Errorf("status %+v", s)
	}
	if md := m.Metadata()["a"]; len(md) != 1 || md[0].Help != "An a." {
		t.Errorf("Metadata()[a] = %v", md)
	}

	// Removing a target marks all its series stale, report series included.
	m.Sync([]target.Target{tb})
	for _, name := range []string{"a", "up", "scrape_series_added"} {
		waitFor(t, name+" of the removed target marked stale", func() bool {
			p := st.points("__name__", name, "instance", ta.Address)
			return len(p) > 0 && p[len(p)-1].stale()
		})
	}
	if len(m.Targets()) != 1 {
		t.Errorf("Targets() = %v", m.Targets())
	}

	// Stopping the manager marks everything stale too.
	m.Stop()
	if p := st.points("__name__", "b"); len(p) == 0 || !p[len(p)-1].stale() {
		t.Errorf("b after Stop: %v", p)
	}
	if p := st.points("__name__", "up", "instance", tb.Address); len(p) == 0 || !p[len(p)-1].stale() {
		t.Errorf("up of b after Stop: %v", p)
	}
	m.Sync([]target.Target{tb}) // a stopped manager starts nothing
	if len(m.Targets()) != 0 {
		t.Error("Sync after Stop started a loop")
	}
}

func TestManagerRestartsOnChange(t *testing.T) {
	st := newFakeStorage()
	a := newAgent(t, "m{job=\"exp\"} 1\nn 2\n", textPlain)
	cfg := jobConfig("j", fastInterval, fastTimeout)
	m, _ := newManager(t, st, cfg)
	tg := targetFor(t, "j", a.srv.URL)
	m.Sync([]target.Target{tg})
	waitFor(t, "m with exported_job", func() bool { return len(st.points("exported_job", "exp")) > 0 })

	// honor_labels changes the labels of m only.
	cfg.HonorLabels = true
	if err := m.ApplyConfig([]config.ScrapeConfig{cfg}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "m with the exposed job", func() bool { return len(st.points("__name__", "m", "job", "exp")) > 0 })
	old := st.points("exported_job", "exp")
	if !old[len(old)-1].stale() {
		t.Errorf("m as labelled before is not marked stale: %v", old[len(old)-1])
	}
	for _, name := range []string{"n", "up"} {
		for _, p := range st.points("__name__", name) {
			if p.stale() {
				t.Errorf("%s marked stale by a restart that kept its labels", name)
			}
		}
	}

	// New target labels: everything is relabelled, the old report series
	// go stale.
	tg.Labels = map[string]string{"rack": "r2"}
	m.Sync([]target.Target{tg})
	waitFor(t, "up with the new label", func() bool { return len(st.points("__name__", "up", "rack", "r2")) > 0 })
	waitFor(t, "up without it marked stale", func() bool {
		for _, p := range st.points("__name__", "up") {
			if p.lset.Get("rack") == "" && p.stale() {
				return true
			}
		}
		return false
	})
}

func TestManagerApplyConfigRemovesJob(t *testing.T) {
	st := newFakeStorage()
	a := newAgent(t, "a 1\n", textPlain)
	m, _ := newManager(t, st, jobConfig("j", fastInterval, fastTimeout), jobConfig("k", fastInterval, fastTimeout))
	tj, tk := targetFor(t, "j", a.srv.URL), targetFor(t, "k", a.srv.URL)
	m.Sync([]target.Target{tj, tk})
	waitFor(t, "both jobs scraped", func() bool {
		ts := m.Targets()
		return len(ts) == 2 && ts[0].Health == HealthUp && ts[1].Health == HealthUp
	})
	// New target lists alone restart nothing.
	m.mu.Lock()
	before := m.loops[tk.Key()]
	m.mu.Unlock()
	k := jobConfig("k", fastInterval, fastTimeout)
	k.StaticConfigs = []config.StaticConfig{{Targets: []string{"10.0.0.1:9400"}}}
	if err := m.ApplyConfig([]config.ScrapeConfig{k}); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	after := m.loops[tk.Key()]
	m.mu.Unlock()
	if before != after {
		t.Error("a change of static_configs restarted the loop")
	}
	if ts := m.Targets(); len(ts) != 1 || ts[0].Job != "k" {
		t.Errorf("Targets() = %v", ts)
	}
	if d := m.Dropped(); len(d) != 1 || d[0].Job != "j" {
		t.Errorf("Dropped() = %v", d)
	}
	waitFor(t, "job j's series marked stale", func() bool {
		p := st.points("__name__", "a", "job", "j")
		return len(p) > 0 && p[len(p)-1].stale()
	})
}
