package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/alertmanager"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Defaults, as Prometheus has them where Prometheus has one.
const (
	DefaultScrapeInterval   = model.Duration(15 * time.Second)
	DefaultScrapeTimeout    = model.Duration(10 * time.Second)
	DefaultMetricsPath      = "/metrics"
	DefaultRefreshInterval  = model.Duration(5 * time.Minute)
	DefaultRetention        = model.Duration(15 * 24 * time.Hour)
	DefaultDownsampleAfter  = model.Duration(48 * time.Hour)
	DefaultDownsampleStep   = model.Duration(5 * time.Minute)
	DefaultRegistrationJob  = "gpuwd-agent"
	DefaultHeartbeat        = model.Duration(30 * time.Second)
	DefaultForgetAfter      = model.Duration(24 * time.Hour)
	DefaultBodySizeLimit    = 64 << 20
	DefaultSampleLimit      = 100_000
	DefaultRemoteWriteBatch = 2000
	// DefaultEvaluationInterval is shorter than Prometheus' 1m: a GPU
	// that overheats should be reported within a minute.
	DefaultEvaluationInterval = model.Duration(30 * time.Second)
)

// Config is the whole file.
type Config struct {
	Global        Global         `yaml:"global"`
	Storage       Storage        `yaml:"storage"`
	Registration  Registration   `yaml:"registration"`
	ScrapeConfigs []ScrapeConfig `yaml:"scrape_configs"`
	RemoteWrite   []RemoteWrite  `yaml:"remote_write"`
	// RuleFiles are Prometheus rule files (globs), relative to this file.
	RuleFiles []string  `yaml:"rule_files"`
	Alerting  Alerting  `yaml:"alerting"`
	Dashboard Dashboard `yaml:"dashboard"`
	Provision Provision `yaml:"provision"`
}

// Alerting is where alerts go.
type Alerting struct {
	// ConfigFile is an Alertmanager configuration (route, receivers,
	// inhibit_rules), relative to this file. Without one, alerts are
	// evaluated and shown but nobody is notified.
	ConfigFile string `yaml:"config_file"`
	// Alertmanagers get every alert as Prometheus sends them, for teams
	// that already run an Alertmanager.
	Alertmanagers []alertmanager.Config `yaml:"alertmanagers"`
}

// Global holds the defaults each scrape job inherits.
type Global struct {
	ScrapeInterval model.Duration `yaml:"scrape_interval"`
	ScrapeTimeout  model.Duration `yaml:"scrape_timeout"`
	// EvaluationInterval is the interval of rule groups that set none.
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	// ExternalLabels are added to samples sent by remote_write.
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// Storage is the history kept in SQLite.
type Storage struct {
	Retention model.Duration `yaml:"retention"`
	// Raw samples older than DownsampleAfter are replaced by one
	// min/max/avg point per DownsampleStep.
	DownsampleAfter model.Duration `yaml:"downsample_after"`
	DownsampleStep  model.Duration `yaml:"downsample_step"`
}

// Registration is how agents add themselves as targets
// (POST /api/v1/agents/register).
type Registration struct {
	// Token or TokenFile: the shared secret agents present. Without one,
	// registration is disabled.
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// JobName is the job label of registered agents; they are scraped with
	// this job's settings when a scrape config of that name exists.
	JobName string `yaml:"job_name"`
	// Heartbeat is how often agents are asked to re-register.
	Heartbeat model.Duration `yaml:"heartbeat"`
	// ForgetAfter drops a registered agent not heard from for this long.
	ForgetAfter model.Duration `yaml:"forget_after"`
}

// ScrapeConfig is one job, as in prometheus.yml.
type ScrapeConfig struct {
	JobName        string         `yaml:"job_name"`
	ScrapeInterval model.Duration `yaml:"scrape_interval"`
	ScrapeTimeout  model.Duration `yaml:"scrape_timeout"`
	MetricsPath    string         `yaml:"metrics_path"`
	Scheme         string         `yaml:"scheme"`
	// HonorLabels keeps the target's job/instance labels on conflict.
	HonorLabels     bool           `yaml:"honor_labels"`
	SampleLimit     int            `yaml:"sample_limit"`
	BodySizeLimit   int64          `yaml:"body_size_limit"`
	Authorization   *Authorization `yaml:"authorization"`
	BearerToken     Secret         `yaml:"bearer_token"`
	BearerTokenFile string         `yaml:"bearer_token_file"`
	TLSConfig       TLSConfig      `yaml:"tls_config"`
	StaticConfigs   []StaticConfig `yaml:"static_configs"`
	FileSDConfigs   []FileSDConfig `yaml:"file_sd_configs"`
	Params          url.Values     `yaml:"params"`
}

// Authorization is Prometheus' authorization block (type defaults to Bearer).
type Authorization struct {
	Type            string `yaml:"type"`
	Credentials     Secret `yaml:"credentials"`
	CredentialsFile string `yaml:"credentials_file"`
}

// TLSConfig is the part of Prometheus' tls_config a scraper needs.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// StaticConfig is a list of host:port targets sharing labels.
type StaticConfig struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels" json:"labels,omitempty"`
}

// FileSDConfig names Prometheus file_sd files (JSON or YAML lists of
// StaticConfig), globs allowed, re-read when they change.
type FileSDConfig struct {
	Files           []string       `yaml:"files"`
	RefreshInterval model.Duration `yaml:"refresh_interval"`
}

// RemoteWrite forwards every scraped sample to a Prometheus remote-write
// receiver.
type RemoteWrite struct {
	URL             string         `yaml:"url"`
	Name            string         `yaml:"name"`
	Authorization   *Authorization `yaml:"authorization"`
	BasicAuth       *BasicAuth     `yaml:"basic_auth"`
	BearerToken     Secret         `yaml:"bearer_token"`
	BearerTokenFile string         `yaml:"bearer_token_file"`
	TLSConfig       TLSConfig      `yaml:"tls_config"`
	RemoteTimeout   model.Duration `yaml:"remote_timeout"`
	// MaxSamplesPerSend bounds one request.
	MaxSamplesPerSend int `yaml:"max_samples_per_send"`
	// Headers are added to every request.
	Headers map[string]string `yaml:"headers"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Default is the configuration without a file: no static targets, agents
// register themselves.
func Default() *Config {
	c := &Config{}
	if err := c.complete(""); err != nil {
		panic(err) // the zero config is valid by construction
	}
	return c
}

// Load reads and checks a configuration file. Relative file paths in it are
// resolved against the file's directory, as Prometheus does.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse checks a configuration held in memory; dir resolves relative paths.
func Parse(b []byte, dir string) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // empty file: defaults
		return nil, locate(b, err)
	}
	if err := c.complete(dir); err != nil {
		return nil, err
	}
	return c, nil
}

var jobNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.:-]*$`)

// complete fills defaults and validates, naming the offending field.
func (c *Config) complete(dir string) error {
	g := &c.Global
	if g.ScrapeInterval == 0 {
		g.ScrapeInterval = DefaultScrapeInterval
	}
	if g.ScrapeTimeout == 0 {
		g.ScrapeTimeout = min(DefaultScrapeTimeout, g.ScrapeInterval)
	}
	if g.EvaluationInterval == 0 {
		g.EvaluationInterval = DefaultEvaluationInterval
	}
	if g.EvaluationInterval < 0 {
		return fmt.Errorf("global: evaluation_interval %s is negative", g.EvaluationInterval)
	}
	if g.ScrapeTimeout > g.ScrapeInterval {
		return fmt.Errorf("global: scrape_timeout %s is greater than scrape_interval %s", g.ScrapeTimeout, g.ScrapeInterval)
	}
	for name := range g.ExternalLabels {
		if !CheckLabelName(name) {
			return fmt.Errorf("global.external_labels: invalid label name %q", name)
		}
	}
	if err := c.Storage.complete(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := c.Dashboard.complete(dir); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if err := c.Provision.complete(dir); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if err := c.Registration.complete(dir); err != nil {
		return fmt.Errorf("registration: %w", err)
	}
	seen := map[string]bool{}
	for i := range c.ScrapeConfigs {
		sc := &c.ScrapeConfigs[i]
		if err := sc.complete(g, dir); err != nil {
			if sc.JobName != "" {
				return fmt.Errorf("scrape_configs[%d] (job %q): %w", i, sc.JobName, err)
			}
			return fmt.Errorf("scrape_configs[%d]: %w", i, err)
		}
		if seen[sc.JobName] {
			return fmt.Errorf("scrape_configs[%d]: job_name %q is used twice", i, sc.JobName)
		}
		seen[sc.JobName] = true
	}
	for i := range c.RemoteWrite {
		if err := c.RemoteWrite[i].complete(dir); err != nil {
			return fmt.Errorf("remote_write[%d]: %w", i, err)
		}
	}
	c.Alerting.ConfigFile = resolve(dir, c.Alerting.ConfigFile)
	for i := range c.Alerting.Alertmanagers {
		am := &c.Alerting.Alertmanagers[i]
		am.URLFile = resolve(dir, am.URLFile)
		if am.Authorization != nil {
			am.Authorization.CredentialsFile = resolve(dir, am.Authorization.CredentialsFile)
		}
	}
	for i, p := range c.RuleFiles {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("rule_files[%d] %q: %w", i, p, err)
		}
		c.RuleFiles[i] = resolve(dir, p)
	}
	return nil
}

func (s *Storage) complete() error {
	if s.Retention == 0 {
		s.Retention = DefaultRetention
	}
	if s.DownsampleAfter == 0 {
		s.DownsampleAfter = DefaultDownsampleAfter
	}
	if s.DownsampleStep == 0 {
		s.DownsampleStep = DefaultDownsampleStep
	}
	switch {
	case s.Retention < 0:
		return fmt.Errorf("retention %s is negative", s.Retention)
	case s.DownsampleAfter < 0:
		return fmt.Errorf("downsample_after %s is negative", s.DownsampleAfter)
	case s.DownsampleStep < model.Duration(time.Minute):
		return fmt.Errorf("downsample_step %s is shorter than 1m", s.DownsampleStep)
	}
	return nil
}

func (r *Registration) complete(dir string) error {
	if r.JobName == "" {
		r.JobName = DefaultRegistrationJob
	}
	if !jobNameRE.MatchString(r.JobName) {
		return fmt.Errorf("job_name %q is not a valid job name", r.JobName)
	}
	if r.Heartbeat == 0 {
		r.Heartbeat = DefaultHeartbeat
	}
	if r.ForgetAfter == 0 {
		r.ForgetAfter = DefaultForgetAfter
	}
	if r.ForgetAfter < r.Heartbeat {
		return fmt.Errorf("forget_after %s is shorter than heartbeat %s", r.ForgetAfter, r.Heartbeat)
	}
	if r.Token != "" && r.TokenFile != "" {
		return errors.New("token and token_file are both set; use one")
	}
	r.TokenFile = resolve(dir, r.TokenFile)
	return nil
}

// LoadToken returns the registration token, read from TokenFile when set.
func (r *Registration) LoadToken() (Secret, error) {
	return readSecret(r.Token, r.TokenFile)
}

func (sc *ScrapeConfig) complete(g *Global, dir string) error {
	if sc.JobName == "" {
		return errors.New("job_name is missing")
	}
	if !jobNameRE.MatchString(sc.JobName) {
		return fmt.Errorf("job_name %q is not a valid job name", sc.JobName)
	}
	if sc.ScrapeInterval == 0 {
		sc.ScrapeInterval = g.ScrapeInterval
	}
	if sc.ScrapeTimeout == 0 {
		sc.ScrapeTimeout = min(g.ScrapeTimeout, sc.ScrapeInterval)
	}
	if sc.ScrapeTimeout > sc.ScrapeInterval {
		return fmt.Errorf("scrape_timeout %s is greater than scrape_interval %s", sc.ScrapeTimeout, sc.ScrapeInterval)
	}
	if sc.MetricsPath == "" {
		sc.MetricsPath = DefaultMetricsPath
	}
	switch sc.Scheme {
	case "":
		sc.Scheme = "http"
	case "http", "https":
	default:
		return fmt.Errorf("scheme %q is neither http nor https", sc.Scheme)
	}
	if sc.SampleLimit < 0 {
		return fmt.Errorf("sample_limit %d is negative", sc.SampleLimit)
	}
	if sc.SampleLimit == 0 {
		sc.SampleLimit = DefaultSampleLimit
	}
	if sc.BodySizeLimit == 0 {
		sc.BodySizeLimit = DefaultBodySizeLimit
	}
	if sc.BodySizeLimit < 0 {
		return fmt.Errorf("body_size_limit %d is negative", sc.BodySizeLimit)
	}
	if err := completeAuth(&sc.Authorization, sc.BearerToken, &sc.BearerTokenFile, dir); err != nil {
		return err
	}
	sc.TLSConfig.resolve(dir)
	for i, st := range sc.StaticConfigs {
		for _, t := range st.Targets {
			if err := CheckTarget(t); err != nil {
				return fmt.Errorf("static_configs[%d]: %w", i, err)
			}
		}
		if err := CheckLabels(st.Labels); err != nil {
			return fmt.Errorf("static_configs[%d]: %w", i, err)
		}
	}
	for i := range sc.FileSDConfigs {
		f := &sc.FileSDConfigs[i]
		if len(f.Files) == 0 {
			return fmt.Errorf("file_sd_configs[%d]: files is empty", i)
		}
		for j, p := range f.Files {
			if _, err := filepath.Match(filepath.Base(p), ""); err != nil {
				return fmt.Errorf("file_sd_configs[%d]: files[%d] %q: %w", i, j, p, err)
			}
			f.Files[j] = resolve(dir, p)
		}
		if f.RefreshInterval == 0 {
			f.RefreshInterval = DefaultRefreshInterval
		}
	}
	return nil
}

// completeAuth folds the legacy bearer_token fields into Authorization.
func completeAuth(a **Authorization, token Secret, tokenFile *string, dir string) error {
	if token != "" || *tokenFile != "" {
		if *a != nil {
			return errors.New("authorization and bearer_token(_file) are both set; use one")
		}
		*a = &Authorization{Credentials: token, CredentialsFile: *tokenFile}
	}
	if *a == nil {
		return nil
	}
	if (*a).Type == "" {
		(*a).Type = "Bearer"
	}
	if (*a).Credentials != "" && (*a).CredentialsFile != "" {
		return errors.New("authorization: credentials and credentials_file are both set; use one")
	}
	(*a).CredentialsFile = resolve(dir, (*a).CredentialsFile)
	return nil
}

func (rw *RemoteWrite) complete(dir string) error {
	u, err := url.Parse(rw.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q is not an http(s) URL", RedactURL(rw.URL))
	}
	if rw.RemoteTimeout == 0 {
		rw.RemoteTimeout = model.Duration(30 * time.Second)
	}
	if rw.MaxSamplesPerSend == 0 {
		rw.MaxSamplesPerSend = DefaultRemoteWriteBatch
	}
	if rw.MaxSamplesPerSend < 0 {
		return fmt.Errorf("max_samples_per_send %d is negative", rw.MaxSamplesPerSend)
	}
	if rw.Name == "" {
		rw.Name = u.Host
	}
	if err := completeAuth(&rw.Authorization, rw.BearerToken, &rw.BearerTokenFile, dir); err != nil {
		return err
	}
	if rw.BasicAuth != nil {
		if rw.Authorization != nil {
			return errors.New("basic_auth and authorization are both set; use one")
		}
		rw.BasicAuth.PasswordFile = resolve(dir, rw.BasicAuth.PasswordFile)
	}
	rw.TLSConfig.resolve(dir)
	return nil
}

func (t *TLSConfig) resolve(dir string) {
	t.CAFile = resolve(dir, t.CAFile)
	t.CertFile = resolve(dir, t.CertFile)
	t.KeyFile = resolve(dir, t.KeyFile)
}

// Secret returns the credentials, read from CredentialsFile when set (so a
// rotated file is picked up on the next request).
func (a *Authorization) Secret() (Secret, error) {
	return readSecret(a.Credentials, a.CredentialsFile)
}

func readSecret(inline Secret, file string) (Secret, error) { return secret.Read(inline, file) }

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// RedactURL drops the user info and query of a URL, where webhook and
// remote-write secrets hide.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable url>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "<redacted>"
	}
	return u.String()
}
