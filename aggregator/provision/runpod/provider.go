package runpod

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gpu-watchdog/gpu-watchdog/aggregator/provision"
)

// Provider is a provision.Provider for one RunPod account.
type Provider struct {
	cfg  Config // APIKey cleared
	key  string
	http *http.Client
	log  *slog.Logger
}

var _ provision.Provider = (*Provider)(nil)

// New checks the config and finds the API key; it calls no API.
func New(cfg Config) (*Provider, error) {
	key, err := cfg.apiKey()
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.MetricsPort < 1 || cfg.MetricsPort > 65535 {
		return nil, fmt.Errorf("runpod: metrics port %d out of range", cfg.MetricsPort)
	}
	cfg.APIKey = ""
	return &Provider{cfg: cfg, key: key, http: cfg.HTTPClient, log: cfg.Logger.With("provider", "runpod")}, nil
}

// Name is "runpod".
func (p *Provider) Name() string { return "runpod" }

// String names the provider and its endpoint, never the key.
func (p Provider) String() string { return "runpod provider " + p.cfg.URL }

// Format prints String for every verb, so %#v cannot reveal the key.
func (p Provider) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue keeps the key out of slog output.
func (p Provider) LogValue() slog.Value { return slog.StringValue(p.String()) }
