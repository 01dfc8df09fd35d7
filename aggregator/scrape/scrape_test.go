package scrape

import (
	"bytes"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

const goldenFile = "testdata/metrics-h100x8.golden"

// goldenSeries is how many samples the golden page holds.
func goldenSeries(t *testing.T) int {
	n := 0
	for line := range strings.SplitSeq(readFile(t, goldenFile), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

func TestScrapeGoldenText(t *testing.T) {
	page := readFile(t, goldenFile)
	a := newAgent(t, page, textPlain)
	h := newHarness(t, jobConfig("gpu", 15*time.Second, 10*time.Second), targetFor(t, "gpu", a.srv.URL))
	n := goldenSeries(t)
	ts := h.scrape()

	got := h.st.at(ts)
	if len(got) != n+5 {
		t.Fatalf("stored %d series, want %d page series + 5 report series", len(got), n)
	}
	instance := strings.TrimPrefix(a.srv.URL, "http://")
	for _, p := range got {
		if p.lset.Get("job") != "gpu" || p.lset.Get("instance") != instance {
			t.Fatalf("series %s lacks job/instance", p.lset)
		}
		if p.lset.Has("exported_job") || p.lset.Has("exported_instance") {
			t.Fatalf("series %s has an exported_ label", p.lset)
		}
	}
	// A value straight from the page.
	temp := h.st.value(t, ts, "__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", "3")
	want := goldenValue(t, page, "DCGM_FI_DEV_GPU_TEMP", `gpu="3"`)
	if temp != want {
		t.Errorf("DCGM_FI_DEV_GPU_TEMP{gpu=3} = %v, want %v", temp, want)
	}
	for name, want := range map[string]float64{
		"up": 1, "scrape_samples_scraped": float64(n), "scrape_samples_post_metric_relabeling": float64(n), "scrape_series_added": float64(n),
	} {
		if v := h.st.value(t, ts, "__name__", name, "job", "gpu", "instance", instance); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if d := h.st.value(t, ts, "__name__", "scrape_duration_seconds"); d <= 0 {
		t.Errorf("scrape_duration_seconds = %v", d)
	}

	ts = h.scrape()
	if v := h.st.value(t, ts, "__name__", "scrape_series_added"); v != 0 {
		t.Errorf("second scrape: scrape_series_added = %v, want 0", v)
	}
	if got := len(h.st.at(ts)); got != n+5 {
		t.Errorf("second scrape stored %d series, want %d", got, n+5)
	}

	// Metadata: the page's families, to storage and in Manager.Metadata.
	md := h.st.meta["DCGM_FI_DEV_GPU_TEMP"]
	if md.Type != "gauge" || md.Help == "" {
		t.Errorf("metadata of DCGM_FI_DEV_GPU_TEMP = %+v", md)
	}
	if h.st.meta["up"].Type != "gauge" {
		t.Errorf("no metadata for up: %+v", h.st.meta["up"])
	}
	h.status() // registers the loop with the manager
	all := h.m.Metadata()
	if c := all["DCGM_FI_DEV_ECC_DBE_AGG_TOTAL"]; len(c) != 1 || c[0].Type != "counter" {
		t.Errorf("Metadata()[DCGM_FI_DEV_ECC_DBE_AGG_TOTAL] = %+v", c)
	}
	if families := strings.Count(page, "# TYPE "); len(all) != families {
		t.Errorf("Metadata() has %d families, the page %d", len(all), families)
	}
}

// goldenValue finds one value on the page by metric name and a label.
func goldenValue(t *testing.T, page, name, label string) float64 {
	for line := range strings.SplitSeq(page, "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			f := strings.Fields(line)
			v, err := parseFloat(f[len(f)-1])
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s{%s} not on the page", name, label)
	return 0
}

func parseFloat(s string) (float64, error) {
	var v model.SampleValue
	err := v.UnmarshalJSON([]byte(`"` + s + `"`))
	return float64(v), err
}

// toOpenMetrics re-encodes a text page as OpenMetrics, as client_golang
// would serve it.
func toOpenMetrics(t testing.TB, page string) string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		if _, err := expfmt.MetricFamilyToOpenMetrics(&buf, fams[name]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestScrapeGoldenOpenMetrics(t *testing.T) {
	page := toOpenMetrics(t, readFile(t, goldenFile))
	a := newAgent(t, page, "application/openmetrics-text; version=1.0.0; charset=utf-8")
	h := newHarness(t, jobConfig("gpu", 15*time.Second, 10*time.Second), targetFor(t, "gpu", a.srv.URL))
	n := goldenSeries(t)
	ts := h.scrape()
	if st := h.status(); st.Health != HealthUp {
		t.Fatalf("health %s: %s", st.Health, st.LastError)
	}
	if got := len(h.st.at(ts)); got != n+5 {
		t.Errorf("stored %d series, want %d", got, n+5)
	}
	temp := h.st.value(t, ts, "__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", "3")
	if want := goldenValue(t, readFile(t, goldenFile), "DCGM_FI_DEV_GPU_TEMP", `gpu="3"`); temp != want {
		t.Errorf("DCGM_FI_DEV_GPU_TEMP{gpu=3} = %v, want %v", temp, want)
	}
	if md := h.st.meta["DCGM_FI_DEV_GPU_TEMP"]; md.Type != "gauge" {
		t.Errorf("metadata %+v", md)
	}
}

func TestScrapeOpenMetricsFeatures(t *testing.T) {
	page := `# TYPE requests counter
# HELP requests Requests served.
requests_total{code="200"} 10
requests_created{code="200"} 1.7e9
# TYPE temperature_celsius gauge
# UNIT temperature_celsius celsius
# HELP temperature_celsius Die temperature.
temperature_celsius 41.5 1700000000.123
# EOF
`
	a := newAgent(t, page, "application/openmetrics-text; version=1.0.0")
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	ts := h.scrape()
	// Counters carry _total (and _created) in OpenMetrics; the family keeps its name.
	if v := h.st.value(t, ts, "__name__", "requests_total", "code", "200"); v != 10 {
		t.Errorf("requests_total = %v", v)
	}
	if v := h.st.value(t, ts, "__name__", "requests_created", "code", "200"); v != 1.7e9 {
		t.Errorf("requests_created = %v", v)
	}
	if md := h.st.meta["requests"]; md.Type != "counter" || md.Help != "Requests served." {
		t.Errorf("metadata of requests: %+v", md)
	}
	// An explicit timestamp (seconds in OpenMetrics) is honoured.
	if v := h.st.value(t, 1700000000123, "__name__", "temperature_celsius"); v != 41.5 {
		t.Errorf("temperature_celsius at its own timestamp = %v", v)
	}
	if md := h.st.meta["temperature_celsius"]; md.Unit != "celsius" || md.Type != "gauge" || md.Help != "Die temperature." {
		t.Errorf("metadata %+v", md)
	}
	// Without # EOF the page is broken.
	a.set(strings.TrimSuffix(page, "# EOF\n"), 200)
	h.scrape()
	if st := h.status(); st.Health != HealthDown || !strings.Contains(st.LastError, "EOF") {
		t.Errorf("page without # EOF: %s %q", st.Health, st.LastError)
	}
}

func TestScrapeHeaders(t *testing.T) {
	a := newAgent(t, "a 1\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	h.scrape()
	hd := a.lastHeaders()
	if got := hd.Get("X-Prometheus-Scrape-Timeout-Seconds"); got != "10" {
		t.Errorf("timeout header %q", got)
	}
	if got := hd.Get("User-Agent"); got != "gpuwd/test" {
		t.Errorf("User-Agent %q", got)
	}
	if got := hd.Get("Accept"); !strings.HasPrefix(got, "application/openmetrics-text;version=1.0.0") || !strings.Contains(got, "text/plain;version=0.0.4") {
		t.Errorf("Accept %q", got)
	}
	if got := hd.Get("Accept-Encoding"); got != "gzip" {
		t.Errorf("Accept-Encoding %q", got)
	}
	if got := hd.Get("Authorization"); got != "" {
		t.Errorf("Authorization %q without authorization configured", got)
	}
}

func TestScrapeNaNAndTimestamps(t *testing.T) {
	a := newAgent(t, "a NaN\nb 2 1000\nc +Inf\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	ts := h.scrape()
	if v := h.st.value(t, ts, "__name__", "a"); !math.IsNaN(v) || (point{v: v}).stale() {
		t.Errorf("a = %v, want a plain NaN", v)
	}
	if v := h.st.value(t, 1000, "__name__", "b"); v != 2 {
		t.Errorf("b at its own timestamp = %v", v)
	}
	if v := h.st.value(t, ts, "__name__", "c"); !math.IsInf(v, 1) {
		t.Errorf("c = %v", v)
	}
	// A series with its own timestamp is not tracked for staleness.
	a.set("a 1\n", 200)
	ts = h.scrape()
	if got := h.st.at(ts, "__name__", "b"); len(got) != 0 {
		t.Errorf("b got a sample at the scrape's time: %v", got)
	}
}

func TestScrapeDuplicates(t *testing.T) {
	a := newAgent(t, "a 1\na 2\nb{x=\"1\",y=\"2\"} 3\nb{y=\"2\",x=\"1\"} 4\nc 5\n", textPlain)
	h := newHarness(t, jobConfig("j", time.Minute, 10*time.Second), targetFor(t, "j", a.srv.URL))
	for range 2 { // new series, then cached ones
		ts := h.scrape()
		if got := h.st.points("__name__", "a"); got[len(got)-1].v != 1 || len(h.st.at(ts, "__name__", "a")) != 1 {
			t.Errorf("a: %v", h.st.at(ts, "__name__", "a"))
		}
		if got := h.st.at(ts, "__name__", "b"); len(got) != 1 {
			t.Errorf("b: %v", got)
		}
		if v := h.st.value(t, ts, "__name__", "scrape_samples_scraped"); v != 5 {
			t.Errorf("scrape_samples_scraped = %v", v)
		}
		if st := h.status(); st.Health != HealthUp {
			t.Errorf("duplicates fail the scrape: %s", st.LastError)
		}
	}
}

func TestLabelsHonor(t *testing.T) {
	page := "m{job=\"exp\",instance=\"x\",rack=\"r1\",exported_job=\"old\",gpu=\"\"} 1\nn 2\n"
	for _, tc := range []struct {
		honor bool
		m     map[string]string // labels of m (besides __name__)
		n     map[string]string
	}{
		{false,
			map[string]string{"job": "j", "instance": "INST", "rack": "target", "exported_instance": "x", "exported_rack": "r1", "exported_job": "old", "exported_exported_job": "exp"},
			map[string]string{"job": "j", "instance": "INST", "rack": "target"}},
		{true,
			map[string]string{"job": "exp", "instance": "x", "rack": "r1", "exported_job": "old"},
			map[string]string{"job": "j", "instance": "INST", "rack": "target"}},
	} {
		a := newAgent(t, page, textPlain)
		cfg := jobConfig("j", time.Minute, 10*time.Second)
		cfg.HonorLabels = tc.honor
		tg := targetFor(t, "j", a.srv.URL)
		tg.Labels = map[string]string{"rack": "target"}
		h := newHarness(t, cfg, tg)
		ts := h.scrape()
		inst := tg.Address
		for name, want := range map[string]map[string]string{"m": tc.m, "n": tc.n} {
			got := h.st.at(ts, "__name__", name)
			if len(got) != 1 {
				t.Fatalf("honor=%v: %d %s series", tc.honor, len(got), name)
			}
			for _, p := range got {
				wantSet := labels.FromMap(withName(name, want, inst))
				if !labels.Equal(p.lset, wantSet) {
					t.Errorf("honor=%v: %s\n got %s\nwant %s", tc.honor, name, p.lset, wantSet)
				}
			}
		}
		// Report series carry the target's labels.
		up := h.st.at(ts, "__name__", "up")
		for _, p := range up {
			want := labels.FromStrings("__name__", "up", "job", "j", "instance", inst, "rack", "target")
			if !labels.Equal(p.lset, want) {
				t.Errorf("up labels %s, want %s", p.lset, want)
			}
		}
	}
}

func withName(name string, m map[string]string, instance string) map[string]string {
	out := map[string]string{"__name__": name}
	for k, v := range m {
		if v == "INST" {
			v = instance
		}
		out[k] = v
	}
	return out
}
