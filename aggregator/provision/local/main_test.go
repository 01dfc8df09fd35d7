package local

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

var agentBin string

// TestMain builds gpuwd-agent once for every test.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpuwd-local-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if agentBin, err = testenv.BuildAgent(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newProvider opens a provider over dir (a new one when ""), closed by the
// test's cleanup.
func newProvider(t testing.TB, dir string, namespaces bool) *Provider {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p, err := New(Config{AgentBinary: agentBin, Dir: dir, Namespaces: namespaces})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// waitStatus polls pod id until it has status want, and returns it.
func waitStatus(t testing.TB, p *Provider, id string, want provision.Status) provision.Pod {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pod, err := p.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if pod.Status == want {
			return pod
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s is %s, not %s: %s\nlog:\n%s", id, pod.Status, want, pod.Message, agentLog(p, id))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func agentLog(p *Provider, id string) string {
	b, _ := os.ReadFile(filepath.Join(p.podDir(id), "agent.log"))
	return string(b)
}

var client = &http.Client{Timeout: 5 * time.Second}

// scrape fetches url and parses the metric families.
func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(strings.NewReader(string(body)))
}

// gauge is the first value of the family name, or -1.
func gauge(fams map[string]*dto.MetricFamily, name string) float64 {
	f := fams[name]
	if f == nil || len(f.Metric) == 0 {
		return -1
	}
	m := f.Metric[0]
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return -1
}
