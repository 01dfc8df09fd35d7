package config

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// FuzzParse feeds arbitrary YAML to the configuration loader. It answers
// with an error or a configuration, never a panic; the same bytes always
// give the same configuration; a configuration it returns holds the
// invariants its checks promise the rest of gpuwd, and takes gpuwd's
// built-in jobs (WithBuiltinJobs panics if they do not check).
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	for _, s := range []string{
		"",
		"global:\n  scrape_interval: 1ms\n",
		"global:\n  scrape_interval: 15\n",
		"global: {scrape_interval: 5s, scrape_timeout: 6s}",
		"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
		"scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n",
		"scrape_configs:\n  - {job_name: a, scheme: ftp}\n",
		"scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:', '[::1]:9400', 'h'], labels: {gpu-model: x}}]\n",
		"scrape_configs:\n  - {job_name: gpuwd-agent, bearer_token: t, authorization: {credentials: u}}\n",
		"scrape_configs:\n  - {job_name: j, sample_limit: -1, body_size_limit: -1, file_sd_configs: [{files: ['[']}]}\n",
		"registration: {token: t, job_name: gpuwd, heartbeat: 1m, forget_after: 30s}\n",
		"storage: {retention: 3 weeks, downsample_step: 30s}\n",
		"remote_write: [{url: 'https://u:p@rw.example.com/api/v1/write?x=1', basic_auth: {username: a}, bearer_token: b}]\n",
		"rule_files: ['rules/*.yml', '[']\n",
		"alerting: {config_file: alertmanager.yml, alertmanagers: [{url: 'http://am:9093'}]}\n",
		"dashboard: {public: true, admin_token: 0123456789abcdef, admins: [{username: ana, password_hash: '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'}]}\n",
		"dashboard: {session_ttl: -1h}\n",
		"provision: {runpod: {image: 'ghcr.io/acme/gpuwd-agent:1', api_key_file: key}, local: {}, join: {aggregator_url: 'https://gpuwd.example.com'}}\n",
		"provision: {local: {}, idle_policies: [{name: a, below_percent: 2, for: 1h, grace: 0s, action: terminate, labels: {team: ml}}]}\n",
		"global: {external_labels: {1st: x}}\n",
		"unknown: 1\n",
		"[1, 2]",
	} {
		f.Add([]byte(s))
	}
	const dir = "/etc/gpuwd"
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, dir)
		if err != nil {
			if c != nil {
				t.Fatal("a configuration with an error")
			}
			return
		}
		again, err := Parse(b, dir)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("the same bytes parsed differently: %v\n%+v\n%+v", err, c, again)
		}
		checkInvariants(t, c)
		for _, self := range []string{"", "127.0.0.1:9300"} {
			checkInvariants(t, c.WithBuiltinJobs(self, "token"))
		}
	})
}

// checkInvariants checks what the scrape manager, discovery and the store
// take for granted in a loaded configuration.
func checkInvariants(t *testing.T, c *Config) {
	t.Helper()
	g := c.Global
	if g.ScrapeInterval <= 0 || g.ScrapeTimeout <= 0 || g.ScrapeTimeout > g.ScrapeInterval || g.EvaluationInterval <= 0 {
		t.Fatalf("global: %+v", g)
	}
	if s := c.Storage; s.Retention <= 0 || s.DownsampleAfter <= 0 || s.DownsampleStep < model.Duration(time.Minute) {
		t.Fatalf("storage: %+v", s)
	}
	if r := c.Registration; !jobNameRE.MatchString(r.JobName) || r.Heartbeat <= 0 || r.ForgetAfter < r.Heartbeat {
		t.Fatalf("registration: %+v", r)
	}
	if c.Dashboard.SessionTTL <= 0 {
		t.Fatalf("dashboard: session_ttl %v", c.Dashboard.SessionTTL)
	}
	jobs := map[string]bool{}
	for _, sc := range c.ScrapeConfigs {
		switch {
		case !jobNameRE.MatchString(sc.JobName) || jobs[sc.JobName]:
			t.Fatalf("job name %q (seen: %v)", sc.JobName, jobs[sc.JobName])
		case sc.ScrapeInterval <= 0 || sc.ScrapeTimeout <= 0 || sc.ScrapeTimeout > sc.ScrapeInterval:
			t.Fatalf("job %q: interval %v, timeout %v", sc.JobName, sc.ScrapeInterval, sc.ScrapeTimeout)
		case sc.SampleLimit <= 0 || sc.BodySizeLimit <= 0:
			t.Fatalf("job %q: sample_limit %d, body_size_limit %d", sc.JobName, sc.SampleLimit, sc.BodySizeLimit)
		case sc.Scheme != "http" && sc.Scheme != "https", sc.MetricsPath == "":
			t.Fatalf("job %q: scheme %q, metrics_path %q", sc.JobName, sc.Scheme, sc.MetricsPath)
		case sc.Authorization != nil && sc.Authorization.Type == "":
			t.Fatalf("job %q: authorization without a type", sc.JobName)
		}
		jobs[sc.JobName] = true
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				if err := CheckTarget(tg); err != nil {
					t.Fatalf("job %q: %v", sc.JobName, err)
				}
			}
			if err := CheckLabels(st.Labels); err != nil {
				t.Fatalf("job %q: %v", sc.JobName, err)
			}
		}
		for _, fs := range sc.FileSDConfigs {
			if len(fs.Files) == 0 || fs.RefreshInterval <= 0 {
				t.Fatalf("job %q: file_sd_configs %+v", sc.JobName, fs)
			}
		}
	}
	for _, rw := range c.RemoteWrite {
		if rw.Name == "" || rw.RemoteTimeout <= 0 || rw.MaxSamplesPerSend <= 0 {
			t.Fatalf("remote_write %s: %+v", RedactURL(rw.URL), rw)
		}
	}
}
