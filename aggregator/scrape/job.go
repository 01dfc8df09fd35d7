package scrape

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/config"
	"github.com/gpu-watchdog/gpu-watchdog/aggregator/target"
)

// acceptHeader prefers OpenMetrics, then the classic text format, as
// Prometheus does without native histograms.
const acceptHeader = "application/openmetrics-text;version=1.0.0;q=0.5," +
	"application/openmetrics-text;version=0.0.1;q=0.4," +
	"text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

// job is one scrape config, ready to scrape with.
type job struct {
	given     config.ScrapeConfig // as ApplyConfig received it
	cfg       config.ScrapeConfig // with defaults filled in
	client    *http.Client
	interval  time.Duration
	timeout   time.Duration
	userAgent string
}

func newJob(cfg config.ScrapeConfig, opts Options) (*job, error) {
	j := &job{
		given:     cfg,
		cfg:       cfg,
		interval:  time.Duration(cfg.ScrapeInterval),
		timeout:   time.Duration(cfg.ScrapeTimeout),
		userAgent: "gpuwd/" + opts.Version,
	}
	// Configs from config.Load are complete; be safe with hand-made ones.
	if j.interval <= 0 {
		j.interval = time.Duration(config.DefaultScrapeInterval)
	}
	if j.timeout <= 0 || j.timeout > j.interval {
		j.timeout = min(time.Duration(config.DefaultScrapeTimeout), j.interval)
	}
	if j.cfg.SampleLimit <= 0 {
		j.cfg.SampleLimit = config.DefaultSampleLimit
	}
	if j.cfg.BodySizeLimit <= 0 {
		j.cfg.BodySizeLimit = config.DefaultBodySizeLimit
	}
	rt := opts.Transport
	if rt == nil {
		tc, err := cfg.TLSConfig.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("scrape job %q: tls_config: %w", cfg.JobName, err)
		}
		rt = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tc,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     opts.IdleConnTimeout,
			// DisableCompression stays false: the transport asks for gzip and
			// decompresses, so the body size limit applies to the page itself.
		}
	}
	j.client = &http.Client{Transport: rt} // follows redirects, as Prometheus
	return j, nil
}

// sameSettings reports whether two configs of a job scrape identically
// (target lists aside), so its loops can keep running.
func sameSettings(a, b config.ScrapeConfig) bool {
	a.StaticConfigs, b.StaticConfigs = nil, nil
	a.FileSDConfigs, b.FileSDConfigs = nil, nil
	return reflect.DeepEqual(a, b)
}

// scrapeURL is the target's URL with the job's params.
func (j *job) scrapeURL(t target.Target) string {
	u := url.URL{Scheme: t.Scheme, Host: t.Address, Path: t.MetricsPath}
	if len(j.cfg.Params) > 0 {
		u.RawQuery = j.cfg.Params.Encode()
	}
	return u.String()
}

// newRequest is the request a loop sends on every scrape (with its context
// and, when configured, a freshly read Authorization header).
func (j *job) newRequest(t target.Target) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, j.scrapeURL(t), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", j.userAgent)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(j.timeout.Seconds(), 'f', -1, 64))
	return req, nil
}

// timeoutString formats the timeout as the config wrote it (10s, 1m).
func (j *job) timeoutString() string { return model.Duration(j.timeout).String() }
