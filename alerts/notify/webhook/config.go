package webhook

import (
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// Config is one generic webhook receiving Alertmanager's version 4 JSON,
// with Alertmanager's webhook_config field names.
type Config struct {
	SendResolved *bool         `yaml:"send_resolved"` // default true
	URL          secret.Secret `yaml:"url"`
	URLFile      string        `yaml:"url_file"`
	// MaxAlerts caps the alerts in one message (0: all); the rest are
	// counted in truncatedAlerts.
	MaxAlerts  int           `yaml:"max_alerts"`
	Timeout    time.Duration `yaml:"timeout"`
	HTTPConfig HTTPConfig    `yaml:"http_config"`
}

// HTTPConfig is the part of Prometheus' http_config a webhook needs.
type HTTPConfig struct {
	Authorization *Authorization `yaml:"authorization"`
}

// Authorization sends "Authorization: <type> <credentials>".
type Authorization struct {
	Type            string        `yaml:"type"` // default Bearer
	Credentials     secret.Secret `yaml:"credentials"`
	CredentialsFile string        `yaml:"credentials_file"`
}
