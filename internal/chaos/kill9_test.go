package chaos

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/api"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

const agentToken = "chaos-token"

// hotRule fires two seconds after a GPU passes 90 °C.
const hotRule = `groups:
- name: chaos
  rules:
  - alert: GPUHot
    expr: DCGM_FI_DEV_GPU_TEMP > 90
    for: 2s
    labels: {severity: critical}
    annotations: {summary: 'GPU {{ $labels.gpu }} on {{ $labels.hostname }} at {{ $value }} °C'}
`

// serveConfig writes gpuwd.yml (1s scrapes and evaluations), the rule
// file and an Alertmanager configuration sending each alert (grouped by
// alert, instance and GPU) to a webhook at hookURL, and returns the
// configuration file.
func serveConfig(t *testing.T, dir, hookURL, rules string) string {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		"rules.yml": rules,
		"hook-url":  hookURL,
		"alerting.yml": `route:
  receiver: hook
  group_by: [alertname, instance, gpu]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url_file: hook-url, send_resolved: true}]
`,
		"gpuwd.yml": `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
alerting: {config_file: alerting.yml}
`,
	})
	return filepath.Join(dir, "gpuwd.yml")
}

// startAgent runs a simulated agent that registers with the aggregator at
// aggAddr.
func startAgent(t *testing.T, spec, hostname, listen, aggAddr string, extra ...string) *proc {
	t.Helper()
	return launch(t, agentBin, append([]string{"--simulate", spec, "--simulate-stable", "--hostname", hostname, "--listen", listen,
		"--aggregator-url", "http://" + aggAddr, "--token", agentToken}, extra...)...)
}

// The queries whose answers, at a fixed time before each kill, must be the
// same after the restart. The first is every raw sample of every series in
// the last ten minutes (the whole run), compared by digest; the others are
// evaluated, as dashboards and rules read them.
var durableQueries = []string{
	`{__name__=~".+"}[10m]`,
	`sum by (job) (count_over_time(up[10m]))`,
	`sum by (instance) (sum_over_time(DCGM_FI_DEV_POWER_USAGE[10m]))`,
	`count_over_time(ALERTS{alertstate="firing"}[10m])`,
}

// answers runs durableQueries at ts: a matrix as its series, samples and
// digest, a vector as its text.
func answers(t *testing.T, c *api.Client, ts time.Time) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range durableQueries {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := c.Query(ctx, q, ts)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		switch v := res.Value.(type) {
		case model.Matrix:
			slices.SortFunc(v, func(a, b *model.SampleStream) int { return strings.Compare(a.Metric.String(), b.Metric.String()) })
			h, samples := sha256.New(), 0
			for _, s := range v {
				fmt.Fprintln(h, s.Metric.String())
				for _, p := range s.Values {
					fmt.Fprintln(h, p.Timestamp, p.Value)
				}
				samples += len(s.Values)
			}
			out[q] = fmt.Sprintf("%d series, %d samples, sha256 %x", len(v), samples, h.Sum(nil)[:8])
		case model.Vector:
			slices.SortFunc(v, func(a, b *model.Sample) int { return strings.Compare(a.Metric.String(), b.Metric.String()) })
			out[q] = v.String()
		default:
			t.Fatalf("%s: unexpected %s", q, res.Value.Type())
		}
	}
	return out
}

// firingAlerts lists the firing alerts as "labels@activeAt".
func firingAlerts(t *testing.T, base string) []string {
	t.Helper()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels   map[string]string `json:"labels"`
				State    string            `json:"state"`
				ActiveAt time.Time         `json:"activeAt"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if !getJSON(base+"/api/v1/alerts", &body) {
		t.Fatalf("GET %s/api/v1/alerts failed", base)
	}
	var out []string
	for _, a := range body.Data.Alerts {
		if a.State == "firing" {
			out = append(out, fmt.Sprintf("%s/%s/gpu%s@%s", a.Labels["alertname"], a.Labels["hostname"], a.Labels["gpu"], a.ActiveAt.Format(time.RFC3339Nano)))
		}
	}
	slices.Sort(out)
	return out
}

// notificationIDs lists the notification log's ids and group keys.
func notificationIDs(t *testing.T, base string) []string {
	t.Helper()
	var body struct {
		Data []struct {
			ID       int64  `json:"id"`
			GroupKey string `json:"groupKey"`
		} `json:"data"`
	}
	if !getJSON(base+"/api/v1/notifications?limit=1000", &body) {
		t.Fatalf("GET %s/api/v1/notifications failed", base)
	}
	var out []string
	for _, n := range body.Data {
		out = append(out, fmt.Sprintf("%d %s", n.ID, n.GroupKey))
	}
	slices.Sort(out)
	return out
}

// webhookMessages decodes what the webhook accepted, oldest first.
func webhookMessages(t *testing.T, hook *chattest.Server[chattest.Request]) []notify.Message {
	t.Helper()
	var out []notify.Message
	for _, r := range hook.Received() {
		var m notify.Message
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("webhook payload: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// TestChaosKill9 kills the real gpuwd with SIGKILL at random moments while
// it scrapes two simulated agents every second and two alerts fire, and
// restarts it on the same data directory, several times. After each kill:
// every SQLite file passes PRAGMA integrity_check, opened read-only exactly
// as the killed process left it; after each restart the query API gives,
// for a fixed evaluation time before the kill, exactly the answers it gave
// before the kill (every sample of every series counted, and summed), the
// alerts are still firing with their original start, the notification log
// is intact, and scraping resumes. At the end the webhook has received each
// notification once: nothing resent because of a restart.
func TestChaosKill9(t *testing.T) {
	rng, _ := seeded(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	hook := chattest.NewWebhook(t)
	cfg := serveConfig(t, dir, hook.URL(), hotRule)
	addr := freeAddr(t)
	serve := []string{"serve", "--listen", addr, "--config", cfg, "--data-dir", data, "--token", agentToken}
	srv := launch(t, gpuwdBin, serve...)
	c := &api.Client{BaseURL: srv.url(""), HTTP: httpClient}
	a0 := startAgent(t, "h100x8", "node-0", freeAddr(t), addr)
	a1 := startAgent(t, "a100x8", "node-1", freeAddr(t), addr)
	post(t, a0.url("/debug/sim/heat?gpu=0&celsius=97"))
	post(t, a1.url("/debug/sim/heat?gpu=3&celsius=95"))
	waitQuery(t, c, `up{job="gpuwd-agent"} == 1`, 60*time.Second, func(v model.Vector) bool { return len(v) == 2 })
	eventually(t, 60*time.Second, "both GPUHot alerts notified", func() bool { return hook.Count() >= 2 })

	const kills = 4
	var recoveries []time.Duration
	checked, raw := 0, ""
	for round := 1; round <= kills; round++ {
		if round == 2 { // one alert resolves between kills
			post(t, a0.url("/debug/sim/heat?gpu=0&celsius=40"))
			eventually(t, 60*time.Second, "the resolved notification", func() bool { return hook.Count() >= 3 })
		}
		time.Sleep(1500*time.Millisecond + time.Duration(rng.IntN(3000))*time.Millisecond) // mid-ingest, at a random moment
		at := time.Now().Add(-5 * time.Second).Truncate(time.Millisecond)
		before := answers(t, c, at)
		alerts, notes := firingAlerts(t, c.BaseURL), notificationIDs(t, c.BaseURL)
		srv.stop(t, syscall.SIGKILL)
		checked += checkSQLite(t, data)
		raw = before[durableQueries[0]]

		restarted := time.Now()
		srv = launch(t, gpuwdBin, serve...)
		if after := answers(t, c, at); !reflect.DeepEqual(before, after) {
			for _, q := range durableQueries {
				if before[q] != after[q] {
					t.Errorf("round %d: %s at %s\nbefore the kill: %s\nafter the restart: %s", round, q, at.Format(time.RFC3339Nano), before[q], after[q])
				}
			}
			t.FailNow()
		}
		if got := firingAlerts(t, c.BaseURL); !slices.Equal(got, alerts) {
			t.Fatalf("round %d: firing alerts before the kill %v, after the restart %v", round, alerts, got)
		}
		if got := notificationIDs(t, c.BaseURL); !slices.Equal(got, notes) {
			t.Fatalf("round %d: notification log before the kill %v, after the restart %v", round, notes, got)
		}
		// Scraping resumes: a sample of both agents newer than the restart.
		waitQuery(t, c, fmt.Sprintf(`timestamp(up{job="gpuwd-agent"} == 1) > %f`, float64(restarted.UnixMilli())/1000), 60*time.Second,
			func(v model.Vector) bool { return len(v) == 2 })
		recoveries = append(recoveries, time.Since(restarted))
	}
	if n := srv.logCount("", regexp.MustCompile(`corrupt`)); n > 0 {
		t.Errorf("the restarted gpuwd logged %d corrupt records:\n%s", n, srv.logs())
	}
	srv.stop(t, syscall.SIGTERM)
	checked += checkSQLite(t, data)

	msgs := webhookMessages(t, hook)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Status+" "+m.GroupLabels["instance"]+" gpu"+m.GroupLabels["gpu"])
	}
	want := []string{"firing " + a0.addr + " gpu0", "firing " + a1.addr + " gpu3", "resolved " + a0.addr + " gpu0"}
	slices.Sort(want[:2])
	if len(got) == len(want) {
		slices.Sort(got[:2]) // the two firing ones in either order
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the webhook received %q, want each notification once: %q", got, want)
	}
	slices.Sort(recoveries)
	summary(t, "kill -9 mid-ingest", "%d kills at random moments; %d SQLite integrity checks ok; %d query answers identical before the kill and after the restart "+
		"(last: %s); alert state and notification log kept; %d/%d notifications delivered, none twice; restart to first new scrape stored %.1f–%.1f s",
		kills, checked, len(durableQueries), raw[:strings.Index(raw, ", sha256")], len(msgs), len(want), recoveries[0].Seconds(), recoveries[len(recoveries)-1].Seconds())
}
