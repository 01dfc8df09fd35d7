package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

func dur(d time.Duration) model.Duration { return model.Duration(d) }

func TestDefaults(t *testing.T) {
	want := &Config{
		Global:  Global{ScrapeInterval: dur(15 * time.Second), ScrapeTimeout: dur(10 * time.Second), EvaluationInterval: dur(30 * time.Second)},
		Storage: Storage{Retention: dur(15 * 24 * time.Hour), DownsampleAfter: dur(48 * time.Hour), DownsampleStep: dur(5 * time.Minute)},
		Registration: Registration{
			JobName: "gpuwd-agent", Heartbeat: dur(30 * time.Second), ForgetAfter: dur(24 * time.Hour),
		},
		Dashboard: Dashboard{SessionTTL: dur(12 * time.Hour)},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default()\n got %+v\nwant %+v", got, want)
	}
	for _, empty := range []string{"", "\n", "# nothing but a comment\n", "---\n"} {
		got, err := Parse([]byte(empty), "/etc/gpuwd")
		if err != nil {
			t.Errorf("Parse(%q): %v", empty, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v, want the defaults", empty, got)
		}
	}
}

func TestScrapeConfigDefaults(t *testing.T) {
	c, err := Parse([]byte(`
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: a
  - job_name: b
    scrape_interval: 1m
    file_sd_configs: [{files: [x.json]}]
`), "/etc/gpuwd")
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Global; g.ScrapeInterval != dur(5*time.Second) || g.ScrapeTimeout != dur(5*time.Second) {
		t.Errorf("global = %+v: the default timeout must not exceed the interval", g)
	}
	a, b := c.ScrapeConfigs[0], c.ScrapeConfigs[1]
	if a.ScrapeInterval != dur(5*time.Second) || a.ScrapeTimeout != dur(5*time.Second) || a.MetricsPath != "/metrics" ||
		a.Scheme != "http" || a.SampleLimit != DefaultSampleLimit || a.BodySizeLimit != DefaultBodySizeLimit || a.Authorization != nil {
		t.Errorf("job a = %+v", a)
	}
	if b.ScrapeInterval != dur(time.Minute) || b.ScrapeTimeout != dur(5*time.Second) {
		t.Errorf("job b inherits the global timeout: %+v", b)
	}
	if fc := b.FileSDConfigs[0]; fc.RefreshInterval != DefaultRefreshInterval || fc.Files[0] != "/etc/gpuwd/x.json" {
		t.Errorf("file_sd = %+v", fc)
	}
}

// TestFullExample loads testdata/full.yml, the documented example.
func TestFullExample(t *testing.T) {
	c, err := Load("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string { return filepath.Join("testdata", p) }
	if c.Global.ScrapeInterval != dur(30*time.Second) || c.Global.ExternalLabels["cluster"] != "train-eu" {
		t.Errorf("global = %+v", c.Global)
	}
	if c.Storage.Retention != dur(30*24*time.Hour) || c.Storage.DownsampleStep != dur(10*time.Minute) {
		t.Errorf("storage = %+v", c.Storage)
	}
	if r := c.Registration; r.TokenFile != abs("secrets/registration-token") || r.JobName != "gpuwd-agent" || r.ForgetAfter != dur(12*time.Hour) {
		t.Errorf("registration = %+v", r)
	}
	if len(c.ScrapeConfigs) != 3 {
		t.Fatalf("%d scrape configs", len(c.ScrapeConfigs))
	}
	agent, static, inv := c.ScrapeConfigs[0], c.ScrapeConfigs[1], c.ScrapeConfigs[2]
	if agent.Authorization == nil || agent.Authorization.CredentialsFile != abs("secrets/metrics-token") || agent.ScrapeInterval != dur(15*time.Second) {
		t.Errorf("gpuwd-agent = %+v", agent)
	}
	wantStatic := []StaticConfig{
		{Targets: []string{"10.0.0.5:9400", "gpu-node-2.internal:9400"}, Labels: map[string]string{"rack": "r12"}},
		{Targets: []string{"gpu-node-3.internal"}},
	}
	if !reflect.DeepEqual(static.StaticConfigs, wantStatic) {
		t.Errorf("static_configs = %+v", static.StaticConfigs)
	}
	if static.Scheme != "https" || static.SampleLimit != 50000 || static.BodySizeLimit != 32<<20 ||
		static.Authorization == nil || static.Authorization.Type != "Bearer" || static.Authorization.Credentials != "static-scrape-token" ||
		static.TLSConfig.CAFile != abs("certs/ca.pem") || static.TLSConfig.ServerName != "gpu.internal" ||
		!reflect.DeepEqual(static.Params, url.Values{"collect[]": {"gpu", "xid"}}) {
		t.Errorf("gpu-static = %+v", static)
	}
	wantFiles := []string{abs("sd/*.json"), abs("sd/*.yml"), "/etc/gpuwd/extra-targets.yaml"}
	if fc := inv.FileSDConfigs[0]; !reflect.DeepEqual(fc.Files, wantFiles) || fc.RefreshInterval != dur(10*time.Minute) {
		t.Errorf("file_sd = %+v", fc)
	}
	if len(c.RemoteWrite) != 2 {
		t.Fatalf("%d remote_write", len(c.RemoteWrite))
	}
	central, vm := c.RemoteWrite[0], c.RemoteWrite[1]
	if central.Name != "central" || central.BasicAuth == nil || central.BasicAuth.PasswordFile != abs("secrets/remote-write-password") ||
		central.MaxSamplesPerSend != 5000 || central.Headers["X-Scope-OrgID"] != "gpu-team" {
		t.Errorf("central = %+v", central)
	}
	if vm.Name != "victoria.internal:8428" || vm.Authorization == nil || vm.Authorization.CredentialsFile != "/etc/gpuwd/vm-token" ||
		vm.MaxSamplesPerSend != DefaultRemoteWriteBatch || vm.RemoteTimeout != dur(30*time.Second) {
		t.Errorf("victoria = %+v", vm)
	}
}

func TestRelativePathsResolveAgainstTheConfigDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(" s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gpuwd.yml")
	if err := os.WriteFile(path, []byte("registration: {token_file: token}\nscrape_configs:\n  - job_name: a\n    bearer_token_file: ../elsewhere/t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Registration.TokenFile != filepath.Join(dir, "token") {
		t.Errorf("token_file = %q", c.Registration.TokenFile)
	}
	if got, want := c.ScrapeConfigs[0].Authorization.CredentialsFile, filepath.Join(filepath.Dir(dir), "elsewhere/t"); got != want {
		t.Errorf("bearer_token_file = %q, want %q", got, want)
	}
	tok, err := c.Registration.LoadToken()
	if err != nil || tok != "s3cret" {
		t.Errorf("LoadToken = %q, %v", string(tok), err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		name, yml, wantErr string
	}{
		{"unknown top-level field", "global: {}\nscrape_config: []\n", "line 2: field scrape_config not found"},
		{"unknown nested field", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['a:1']\n        label: {}\n", "line 5: field label not found"},
		{"bad duration", "global:\n  scrape_interval: 15\n", `line 2: global.scrape_interval: not a valid duration string: "15"`},
		{"bad duration unit", "storage:\n  retention: 3 weeks\n", `line 2: storage.retention: unknown unit " weeks"`},
		{"bad nested duration", "scrape_configs:\n  - job_name: a\n  - job_name: b\n    file_sd_configs:\n      - files: [x.json]\n        refresh_interval: -5m\n", "line 6: scrape_configs[1].file_sd_configs[0].refresh_interval: not a valid duration"},
		{"global timeout over interval", "global: {scrape_interval: 10s, scrape_timeout: 11s}\n", "global: scrape_timeout 11s is greater than scrape_interval 10s"},
		{"job timeout over interval", "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n", `job "a"): scrape_timeout 6s is greater than scrape_interval 5s`},
		{"job timeout over inherited interval", "global: {scrape_interval: 5s}\nscrape_configs:\n  - {job_name: a, scrape_timeout: 10s}\n", "greater than scrape_interval 5s"},
		{"duplicate job", "scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n", `scrape_configs[2]: job_name "a" is used twice`},
		{"missing job name", "scrape_configs:\n  - scheme: http\n", "scrape_configs[0]: job_name is missing"},
		{"bad job name", "scrape_configs:\n  - job_name: 'a b'\n", `job_name "a b" is not a valid job name`},
		{"bad scheme", "scrape_configs:\n  - {job_name: a, scheme: ftp}\n", `scheme "ftp" is neither http nor https`},
		{"target with scheme", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['http://a:1']}]\n", `static_configs[0]: target "http://a:1" must be host:port`},
		{"target with path", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:1/metrics']}]\n", "without a scheme or path"},
		{"target without port number", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:']}]\n", `target "a:" is not a valid host:port`},
		{"target with bad port", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:http']}]\n", `target "a:http" is not a valid host:port`},
		{"target without host", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [':9400']}]\n", `target ":9400" is not a valid host:port`},
		{"empty target", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['']}]\n", "empty target"},
		{"bad label name", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:1'], labels: {gpu-model: x}}]\n", `invalid label name "gpu-model"`},
		{"reserved label name", "scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['a:1'], labels: {__scheme__: https}}]\n", `invalid label name "__scheme__"`},
		{"bad external label", "global:\n  external_labels: {1st: x}\n", `global.external_labels: invalid label name "1st"`},
		{"token and token_file", "registration: {token: a, token_file: b}\n", "registration: token and token_file are both set"},
		{"forget before heartbeat", "registration: {heartbeat: 1m, forget_after: 30s}\n", "forget_after 30s is shorter than heartbeat 1m"},
		{"bad registration job", "registration: {job_name: 'x y'}\n", "registration: job_name"},
		{"authorization and bearer_token", "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    authorization: {credentials: y}\n", "authorization and bearer_token(_file) are both set"},
		{"credentials and file", "scrape_configs:\n  - job_name: a\n    authorization: {credentials: y, credentials_file: z}\n", "credentials and credentials_file are both set"},
		{"negative sample limit", "scrape_configs:\n  - {job_name: a, sample_limit: -1}\n", "sample_limit -1 is negative"},
		{"empty file_sd", "scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: []}]\n", "file_sd_configs[0]: files is empty"},
		{"bad file_sd glob", "scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: ['sd/[.json']}]\n", "syntax error in pattern"},
		{"short downsample step", "storage: {downsample_step: 30s}\n", "storage: downsample_step 30s is shorter than 1m"},
		{"remote_write without scheme", "remote_write:\n  - url: prometheus:9090/api/v1/write\n", "remote_write[0]: url"},
		{"remote_write url secret redacted", "remote_write:\n  - url: 'ftp://user:hunter2@x/?key=hunter2'\n", "<redacted>"},
		{"basic_auth and authorization", "remote_write:\n  - url: http://x/\n    bearer_token: a\n    basic_auth: {username: u}\n", "basic_auth and authorization are both set"},
		{"wrong type", "scrape_configs: {job_name: a}\n", "line 1: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yml), "/etc/gpuwd")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gpuwd.yml")
	if err := os.WriteFile(path, []byte("global:\n  scrape_intervall: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "hunter2-very-secret"
	c, err := Parse([]byte(fmt.Sprintf(`
registration: {token: %[1]s}
scrape_configs:
  - job_name: a
    bearer_token: %[1]s
  - job_name: b
    authorization: {credentials: %[1]s}
remote_write:
  - url: http://x/
    basic_auth: {username: u, password: %[1]s}
`, secret)), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Registration.Token != secret || c.ScrapeConfigs[0].Authorization.Credentials != secret {
		t.Fatal("the secret was not parsed")
	}
	var outputs []string
	for _, v := range []any{c, *c, c.Registration, c.ScrapeConfigs, *c.ScrapeConfigs[1].Authorization, *c.RemoteWrite[0].BasicAuth, c.Registration.Token} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3s"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("config", "config", c, "auth", c.ScrapeConfigs[1].Authorization, "token", c.Registration.Token)
	}
	outputs = append(outputs, string(y), string(j), logged.String())
	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("a secret is printed: %s", out)
		}
	}
	if !strings.Contains(string(y), "token: <secret>") || !strings.Contains(string(j), `"Token":"\u003csecret\u003e"`) {
		t.Errorf("secrets are not shown as <secret>:\n%s\n%s", y, j)
	}
	if s := fmt.Sprint(Secret("")); s != "" {
		t.Errorf("an empty secret prints %q", s)
	}
	// The marshalled config is still valid YAML with the secret masked.
	var back Config
	if err := yaml.Unmarshal(y, &back); err != nil || back.Registration.Token != "<secret>" {
		t.Errorf("round trip: %v, token %q", err, string(back.Registration.Token))
	}
}

func TestAuthorizationSecretReadsTheFileEachTime(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cred")
	a := &Authorization{CredentialsFile: file}
	if _, err := a.Secret(); err == nil {
		t.Error("a missing credentials file gave no error")
	}
	for _, v := range []string{"one\n", "two"} {
		if err := os.WriteFile(file, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := a.Secret(); err != nil || string(got) != strings.TrimSpace(v) {
			t.Errorf("Secret() = %q, %v", string(got), err)
		}
	}
	if got, _ := (&Authorization{Credentials: "inline"}).Secret(); got != "inline" {
		t.Errorf("inline = %q", string(got))
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@hooks.example.com/x?token=abc": "https://hooks.example.com/x?<redacted>",
		"http://x:9090/api/v1/write":                    "http://x:9090/api/v1/write",
		"http://[::1":                                   "<unparseable url>",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for _, ok := range []string{"gpu1", "gpu1:9400", "10.0.0.5:9400", "[::1]:9400", "gpu-1.example.com:443"} {
		if err := CheckTarget(ok); err != nil {
			t.Errorf("CheckTarget(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "gpu1:", "gpu1:0", "gpu1:65536", "gpu1:x", ":9400", "::1", "http://gpu1", "gpu1/metrics", "a:1:2"} {
		if err := CheckTarget(bad); err == nil {
			t.Errorf("CheckTarget(%q) accepted it", bad)
		}
	}
}
